// The cross-origin isolation service worker for ordinary static hosts: the
// npm package coi-serviceworker's worker part, loaded from here (the site
// root) so that its scope covers index.html (a worker registered from
// vendor/ would only control vendor/).
importScripts('vendor/coi-serviceworker.min.js');
