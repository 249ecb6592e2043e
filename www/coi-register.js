// Registers coi-sw.js when the page is not cross-origin isolated (an ordinary
// static host that sends no COOP/COEP headers), then reloads once so that the
// service worker can add the headers. Under `tunevm serve` the page is
// isolated already and nothing happens. If isolation still fails after one
// reload, the page runs the single-threaded build and says so (#isolation).
(function () {
  var KEY = 'tunevm-coi-reloaded';
  if (window.crossOriginIsolated !== false) {
    try { sessionStorage.removeItem(KEY); } catch (e) {}
    return;
  }
  if (!window.isSecureContext || !navigator.serviceWorker) return;
  navigator.serviceWorker.register('coi-sw.js').then(function (reg) {
    if (!reg || navigator.serviceWorker.controller) return; // controlled, still not isolated: give up
    try {
      if (sessionStorage.getItem(KEY)) return; // reloaded once already
      sessionStorage.setItem(KEY, '1');
    } catch (e) {
      return;
    }
    var reload = function () { location.reload(); };
    if (reg.active) return reload();
    var sw = reg.installing || reg.waiting;
    if (sw) sw.addEventListener('statechange', function () { if (sw.state === 'activated') reload(); });
  }, function (err) {
    console.warn('tunevm: the isolation service worker was not registered:', err);
  });
})();
