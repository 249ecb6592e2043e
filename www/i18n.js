// The page's own labels in English and Chinese. Knob help, section titles and
// preset texts come from the wasm schema (Rust); only the page's chrome is here.
// An element with data-i18n="KEY" gets its text from this table whenever the
// language changes (setLang); code calls t(KEY) for text it builds itself.

const STRINGS = {
  en: {
    title: 'tunevm playground',
    tagline: 'A RISC-V virtual machine in your browser tab, built to show what VM tuning does.',
    intro_what:
      'tunevm runs bare-metal RV64 programs with an interpreter, a two-tier JIT that compiles hot guest code to WebAssembly, a code cache and TLBs. Every knob of the tuning guide is here, and every figure it names is measured while the program runs.',
    intro_step1: 'Pick a workload (or a preset, which picks one for you). Read its walkthrough.',
    intro_step2: 'Change a knob in the panel on the left. Invalid values are refused with the reason.',
    intro_step3: 'Press Run and watch the charts and the target checklist. Use A/B to compare two settings side by side.',
    workload: 'Workload',
    own_elf: 'or your own RV64 ELF',
    own_elf_rules_title: 'What your own program must look like',
    own_elf_rules: [
      'A statically linked, little-endian RV64 ELF using only RV64IMAC + Zicsr + Zifencei (no floating point), bare metal: no operating system, no Linux system calls (an ecall traps to your own handler).',
      'Loaded into RAM at 0x8000_0000 (link it there, -mcmodel=medany); RAM size is the knob memory.ram_bytes. It starts at the ELF entry in M-mode with every register zero except pc: set sp yourself.',
      'Output and input: the 16550 UART at 0x1000_0000 (THR/RBR at +0, LSR at +5). Timer: the CLINT at 0x0200_0000 (mtime advances with instructions, 10 MHz nominal).',
      'Exit: the SiFive test finisher at 0x0010_0000 (32-bit store of 0x5555 = pass, (code << 16) | 0x3333 = fail with code), or HTIF when the ELF has the symbols tohost and fromhost.',
    ],
    preset: 'Preset',
    apply_preset: 'Apply preset',
    preset_defaults: 'Guide defaults',
    preset_problem: 'Problem',
    preset_fix: 'Fix',
    controls: 'Controls',
    run: 'Run',
    pause: 'Pause',
    step: 'Step',
    step_block: 'Step block',
    stop: 'Stop',
    reset: 'Reset',
    state: 'State',
    instructions: 'instructions',
    registers: 'Registers',
    console: 'Console',
    console_input_ph: 'type a line for the guest UART, Enter sends it',
    knobs: 'Knobs',
    knobs_note: 'Only values that differ from the default are passed to the machine. A change takes effect when the next machine is built: Run or Step after the change (a paused run then starts over), or Reset.',
    reset_knobs: 'All defaults',
    default: 'default',
    range: 'range',
    one_of: 'one of',
    changed: 'changed',
    charts: 'Live charts',
    chart_mips: 'Guest speed (MIPS)',
    chart_tiers: 'Instructions per tier (MIPS contributed by each tier)',
    chart_compile_time: 'JIT compile time per unit (count per bucket)',
    chart_code_cache: 'Code cache: occupancy and hit rate',
    chart_tlb_levels: 'TLB hit rate per level (per interval)',
    chart_threshold: 'JIT hotness threshold',
    tlb_none: 'No TLB lookups: this program runs without paging (bare mode), so there is no TLB figure. The paging workloads have one.',
    chart_memory: 'Host memory held per purpose',
    seconds: 'run time (s)',
    checklist: 'Target checklist',
    checklist_note: 'The guide\'s target figures, measured on the latest run. Green meets the target, red misses it, grey is not measured (yet).',
    target_compile_time: 'JIT compile time p99 < 10 ms',
    target_compile_time_why: 'A unit that takes long to compile delays the moment its code runs fast; raise the threshold or keep the budget on.',
    target_tlb_hit_rate: 'TLB hit rate > 90 %',
    target_tlb_hit_rate_why: 'Every TLB miss costs a page-table walk; only programs that turn on paging (Sv39) have a TLB figure.',
    target_cache_hit_rate: 'Code cache hit rate > 85 %',
    target_cache_hit_rate_why: 'A miss sends hot code back to the interpreter or to the compiler; too small a cache or the wrong policy shows here.',
    target_native_speed: 'Speed > 70 % of native wasm',
    target_native_speed_why: 'Run cpubench to the end: the page then times the same C compiled straight to WebAssembly and compares.',
    target_gc_pause: 'GC pause < 1 ms',
    target_gc_pause_why: 'Arrives with the GC.',
    na: 'n/a',
    native_time: 'native wasm',
    vm_time: 'in the VM',
    measuring: 'measuring native speed…',
    cold_run: '— the first long run in this page: the browser had not yet compiled and optimized the code this run needs (tunevm\'s own, and each generated unit, which V8 first compiles with its baseline compiler), so it runs up to about half as fast as later runs. Run it again for a settled figure.',
    ab: 'A/B comparison',
    ab_note: 'A is the knob panel above; B is the panel below (a preset fills it). Each runs the selected workload to its end twice, in the order A B B A, so neither side gets all of the browser\'s warm-up; the table and the charts show each side\'s faster run.',
    ab_preset_b: 'Fill B from a preset',
    ab_custom: '(keep B as edited)',
    ab_run: 'Run A and B',
    ab_running: 'running',
    ab_runs: 'wall time of each run',
    knobs_b: 'Knobs of B',
    figure: 'figure',
    change: 'change',
    chart_ab: 'MIPS of A and B',
    chart_ab_rates: 'Code cache and TLB hit rates of A and B',
    export: 'Report',
    export_json: 'Export JSON',
    export_csv: 'Export CSV',
    share_link: 'Link to this workload and these settings',
    copy_link: 'Copy link',
    copied: 'copied',
    why_asleep: 'the guest waits in wfi and no enabled interrupt can wake it',
    why_trap_loop: 'every instruction traps (its trap handler traps too): the guest makes no progress',
    code_view: 'Code view: hot compiled units',
    code_refresh: 'Refresh',
    code_guest: 'guest code',
    code_wat: 'generated wasm',
    code_none: 'no compiled unit yet (run a while with the JIT on)',
    isolation_ok: 'Cross-origin isolated: the threaded build (shared memory) runs.',
    isolation_no:
      'Not cross-origin isolated: this page fell back to the single-threaded build. The threaded build needs the headers COOP: same-origin and COEP: require-corp; `tunevm serve` sends them, and on an ordinary static host the service-worker shim provides them after one reload.',
    build: 'build',
    loading: 'loading…',
    error_prefix: 'error',
    restore_bad: 'The link held values that were refused',
    unknown_workload: 'unknown workload',
    language: 'Language',
    walkthrough: 'Walkthrough',
    try_it: 'Try',
    see_it: 'What you should see',
  },
  zh: {
    title: 'tunevm 实验台',
    tagline: '在浏览器标签页里运行的 RISC-V 虚拟机，专门用来展示虚拟机调优的效果。',
    intro_what:
      'tunevm 运行裸机 RV64 程序：解释器、把热点客户代码编译成 WebAssembly 的两级 JIT、代码缓存和 TLB。调优指南里的每个参数这里都有，它提到的每个指标都在程序运行时实时测量。',
    intro_step1: '选择一个工作负载（或选一个预设，它会替你选好负载），读一读它的说明。',
    intro_step2: '在左侧面板里修改参数。无效的值会被拒绝并给出原因。',
    intro_step3: '按“运行”，观察图表和目标检查表。用 A/B 对比两组设置。',
    workload: '工作负载',
    own_elf: '或上传自己的 RV64 ELF',
    own_elf_rules_title: '自己的程序需要满足的条件',
    own_elf_rules: [
      '静态链接、小端的 RV64 ELF，只用 RV64IMAC + Zicsr + Zifencei（没有浮点），裸机运行：没有操作系统，没有 Linux 系统调用（ecall 会陷入你自己的处理程序）。',
      '装入 0x8000_0000 处的内存（链接到这里，用 -mcmodel=medany）；内存大小由参数 memory.ram_bytes 决定。从 ELF 入口以 M 模式开始执行，除 pc 外所有寄存器为零：请自己设置 sp。',
      '输入输出：0x1000_0000 处的 16550 UART（THR/RBR 在 +0，LSR 在 +5）。定时器：0x0200_0000 处的 CLINT（mtime 随指令数前进，名义频率 10 MHz）。',
      '退出：0x0010_0000 处的 SiFive 测试结束设备（32 位写入 0x5555 表示通过，(code << 16) | 0x3333 表示以 code 失败），或者当 ELF 含有 tohost 和 fromhost 符号时使用 HTIF。',
    ],
    preset: '预设',
    apply_preset: '应用预设',
    preset_defaults: '指南默认值',
    preset_problem: '问题',
    preset_fix: '修复',
    controls: '控制',
    run: '运行',
    pause: '暂停',
    step: '单步',
    step_block: '单步一个块',
    stop: '停止',
    reset: '复位',
    state: '状态',
    instructions: '条指令',
    registers: '寄存器',
    console: '控制台',
    console_input_ph: '输入一行发给客户机 UART，回车发送',
    knobs: '参数',
    knobs_note: '只有与默认值不同的参数才会传给虚拟机。修改在构建下一台虚拟机时生效：修改后按运行或单步（暂停中的运行会从头开始），或按复位。',
    reset_knobs: '全部恢复默认',
    default: '默认',
    range: '范围',
    one_of: '可选',
    changed: '已修改',
    charts: '实时图表',
    chart_mips: '客户机速度（MIPS）',
    chart_tiers: '各层级执行的指令（每一层贡献的 MIPS）',
    chart_compile_time: '每个单元的 JIT 编译时间（各区间的数量）',
    chart_code_cache: '代码缓存：占用与命中率',
    chart_tlb_levels: '各级 TLB 命中率（按时间段）',
    chart_threshold: 'JIT 热度阈值',
    tlb_none: '没有 TLB 查找：这个程序不开启分页（裸模式），所以没有 TLB 指标。paging 系列工作负载才有。',
    chart_memory: '按用途划分的宿主内存',
    seconds: '运行时间（秒）',
    checklist: '目标检查表',
    checklist_note: '指南中的目标指标，按最近一次运行测量。绿色达标，红色未达标，灰色表示（尚）未测量。',
    target_compile_time: 'JIT 编译时间 p99 < 10 ms',
    target_compile_time_why: '编译耗时长的单元会推迟它变快的时刻；可以提高阈值或保持编译时间预算开启。',
    target_tlb_hit_rate: 'TLB 命中率 > 90 %',
    target_tlb_hit_rate_why: '每次 TLB 未命中都要遍历页表；只有开启分页（Sv39）的程序才有 TLB 指标。',
    target_cache_hit_rate: '代码缓存命中率 > 85 %',
    target_cache_hit_rate_why: '未命中会让热代码回到解释器或重新编译；缓存太小或淘汰策略不合适都会体现在这里。',
    target_native_speed: '速度 > 原生 wasm 的 70 %',
    target_native_speed_why: '把 cpubench 运行到结束：页面随后会计时同一份直接编译成 WebAssembly 的 C 代码并进行比较。',
    target_gc_pause: 'GC 停顿 < 1 ms',
    target_gc_pause_why: '随 GC 一起到来。',
    na: '无',
    native_time: '原生 wasm',
    vm_time: '虚拟机内',
    measuring: '正在测量原生速度…',
    cold_run: '—— 这是本页面的第一次长时间运行：浏览器还没有编译并优化这次运行所需的代码（tunevm 自身的代码，以及每个生成的单元——V8 先用基线编译器编译它们），所以速度最多只有之后几次的一半左右。再运行一次可得到稳定的数值。',
    ab: 'A/B 对比',
    ab_note: 'A 是上面的参数面板，B 是下面的面板（可用预设填充）。两者各在所选工作负载上完整运行两次，顺序为 A B B A，这样浏览器的预热不会全落在一方；表格和图表显示每一方较快的那次。',
    ab_preset_b: '用预设填充 B',
    ab_custom: '（保持 B 的当前设置）',
    ab_run: '运行 A 和 B',
    ab_running: '运行中',
    ab_runs: '每次运行的耗时',
    knobs_b: 'B 的参数',
    figure: '指标',
    change: '变化',
    chart_ab: 'A 与 B 的 MIPS',
    chart_ab_rates: 'A 与 B 的代码缓存和 TLB 命中率',
    export: '报告',
    export_json: '导出 JSON',
    export_csv: '导出 CSV',
    share_link: '指向此工作负载和这些设置的链接',
    copy_link: '复制链接',
    copied: '已复制',
    why_asleep: '客户程序在 wfi 中等待，而没有任何已启用的中断能唤醒它',
    why_trap_loop: '每条指令都陷入异常（陷入处理程序本身也出错）：客户程序无法前进',
    code_view: '代码视图：热点编译单元',
    code_refresh: '刷新',
    code_guest: '客户机代码',
    code_wat: '生成的 wasm',
    code_none: '还没有编译单元（在开启 JIT 的情况下运行一会儿）',
    isolation_ok: '已跨源隔离：运行多线程版本（共享内存）。',
    isolation_no:
      '未跨源隔离：本页已退回单线程版本。多线程版本需要响应头 COOP: same-origin 和 COEP: require-corp；`tunevm serve` 会发送它们，在普通静态主机上，service worker 垫片会在重新加载一次后提供它们。',
    build: '版本',
    loading: '加载中…',
    error_prefix: '错误',
    restore_bad: '链接中有被拒绝的值',
    unknown_workload: '未知的工作负载',
    language: '语言',
    walkthrough: '说明',
    try_it: '试一试',
    see_it: '应该看到',
  },
};

let lang = 'en';
const listeners = [];

export function getLang() {
  return lang;
}

export function t(key) {
  const table = STRINGS[lang] || STRINGS.en;
  return key in table ? table[key] : STRINGS.en[key] ?? key;
}

/** Picks en or zh out of a {en, zh} object from the schema or presets. */
export function pick(texts) {
  if (texts == null) return '';
  if (typeof texts === 'string') return texts;
  return texts[lang] ?? texts.en ?? '';
}

export function onLangChange(fn) {
  listeners.push(fn);
}

export function setLang(next) {
  lang = next === 'zh' ? 'zh' : 'en';
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  applyStatic(document);
  for (const fn of listeners) fn(lang);
}

/** Fills every [data-i18n] element under root; lists become <li> items. */
export function applyStatic(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    const value = t(el.dataset.i18n);
    if (Array.isArray(value)) {
      el.replaceChildren(...value.map((line) => Object.assign(document.createElement('li'), { textContent: line })));
    } else {
      el.textContent = value;
    }
  }
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
}
