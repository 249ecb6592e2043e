// The built-in workloads (workloads/NAME.elf in the built site) and a short
// walkthrough for each: what the program does, what to try, what to look at.

export const DEFAULT_WORKLOAD = 'cpubench';

// Order of the picker. Each entry: does / try / see, in en and zh.
export const WORKLOADS = {
  cpubench: {
    does: {
      en: 'Integer CPU benchmark: a sieve, CRC-32, quicksort, a 24x24 matrix product and a hash, 600 repetitions (about 500 M instructions). Ends with "checksum: 0x3b83ab4b1a61130d".',
      zh: '整数 CPU 基准：筛法、CRC-32、快速排序、24x24 矩阵乘法和哈希，重复 600 次（约 5 亿条指令）。最后输出 "checksum: 0x3b83ab4b1a61130d"。',
    },
    try: {
      en: 'Run it once with the defaults, then set jit.enabled to false (interpreter only), or raise jit.tier_up_threshold so code stays in the baseline tier longer.',
      zh: '先用默认值运行一次，再把 jit.enabled 设为 false（只用解释器），或者提高 jit.tier_up_threshold，让代码更久地停留在基础层。',
    },
    see: {
      en: 'The MIPS chart climbs as hot loops get compiled; the tier chart shows the work moving from the interpreter to the optimizing tier. When it ends, the checklist compares its speed with the same C compiled straight to wasm.',
      zh: '随着热循环被编译，MIPS 曲线上升；层级图显示工作从解释器转移到优化层。运行结束后，检查表会把它的速度与直接编译成 wasm 的同一份 C 代码比较。',
    },
  },
  hello: {
    does: {
      en: 'Prints "Hello from tunevm!" and one more line through the UART, then exits with 0. A few thousand instructions.',
      zh: '通过 UART 输出 "Hello from tunevm!" 和另一行，然后以 0 退出。只有几千条指令。',
    },
    try: {
      en: 'Press Step a few times (or Step block) instead of Run, and watch pc and the registers change.',
      zh: '不按运行，而是按几次单步（或单步一个块），观察 pc 和寄存器的变化。',
    },
    see: {
      en: 'The console shows the two lines and the state becomes "exit 0". It is too short for the JIT: everything runs in the interpreter tier.',
      zh: '控制台显示两行文字，状态变为 "exit 0"。程序太短，JIT 来不及介入：全部在解释器层执行。',
    },
  },
  echo: {
    does: {
      en: 'An interactive program: it waits for a line on the console, answers with the line\'s number, its length and the line reversed, and ends with "bye" when you type quit.',
      zh: '一个交互式程序：等待控制台输入一行，回答行号、长度和倒过来的这一行；输入 quit 后输出 "bye" 并结束。',
    },
    try: {
      en: 'Press Run, then type into the box under the console and press Enter. Type quit to end it.',
      zh: '按运行，然后在控制台下方的输入框里输入文字并回车。输入 quit 结束程序。',
    },
    see: {
      en: 'While it waits, the guest polls the UART in a tight loop, so the MIPS chart stays high and that loop is compiled: a program waiting for input still keeps a core busy unless it sleeps with wfi.',
      zh: '等待输入时，客户程序在一个紧凑的循环里轮询 UART，所以 MIPS 曲线保持在高位，这个循环也会被编译：除非用 wfi 休眠，等待输入的程序同样占满一个核。',
    },
  },
  paging: {
    does: {
      en: 'An S-mode kernel turns on Sv39 paging and walks 64 pages in order, 32768 times (2.1 M memory accesses through the TLB).',
      zh: '一个 S 模式内核开启 Sv39 分页，按顺序访问 64 个页面，共 32768 遍（210 万次经过 TLB 的访存）。',
    },
    try: {
      en: 'Set jit.enabled to false to see the MMU\'s own levels, then make mmu.multilevel_tlb_config.l1_entries 64 or more (64 pages no longer thrash a 16-entry L1).',
      zh: '把 jit.enabled 设为 false，直接看 MMU 自己的各级 TLB；再把 mmu.multilevel_tlb_config.l1_entries 设为 64 或更大（64 个页面不再挤爆 16 项的 L1）。',
    },
    see: {
      en: 'In the TLB chart the l1 line jumps from near 0 to near 100 %. With the JIT on, the inline TLB inside generated code serves most lookups before l1 sees them.',
      zh: '在 TLB 图中，l1 曲线从接近 0 跳到接近 100 %。开启 JIT 时，生成代码里的内联 TLB 会先处理大部分查找，l1 只看到剩下的部分。',
    },
  },
  'paging-random': {
    does: {
      en: 'The same kernel, 1024 pages visited in random order (2048 passes). The default 512-entry L2 holds only half of them.',
      zh: '同一个内核，以随机顺序访问 1024 个页面（2048 遍）。默认 512 项的 L2 只能装下一半。',
    },
    try: {
      en: 'Apply the "low TLB hit rate" problem and fix presets, or raise mmu.multilevel_tlb_config.l2_entries to 2048 yourself.',
      zh: '应用“TLB 命中率低”的问题预设和修复预设，或者自己把 mmu.multilevel_tlb_config.l2_entries 提高到 2048。',
    },
    see: {
      en: 'The total TLB hit rate and the checklist row "TLB hit rate > 90 %" turn from red to green; fewer page walks in the report.',
      zh: 'TLB 总命中率和检查表中“TLB 命中率 > 90 %”一行由红变绿；报告中的页表遍历次数减少。',
    },
  },
  'paging-stride': {
    does: {
      en: 'The same kernel, 256 pages with a stride of 3 pages (8192 passes): a regular pattern that a prefetcher can predict.',
      zh: '同一个内核，256 个页面，步长 3 页（8192 遍）：预取器可以预测的规则访问模式。',
    },
    try: {
      en: 'Turn mmu.enable_prefetch off and on, and change mmu.prefetch_distance.',
      zh: '关闭再打开 mmu.enable_prefetch，并修改 mmu.prefetch_distance。',
    },
    see: {
      en: 'The report\'s tlb.prefetch.issued and used, and the per-level TLB chart; set jit.enabled to false to see the l1/l2 levels without the inline TLB.',
      zh: '看报告中的 tlb.prefetch.issued 和 used，以及各级 TLB 图；把 jit.enabled 设为 false 可以看到没有内联 TLB 时的 l1/l2。',
    },
  },
  phases: {
    does: {
      en: '600 small functions called in phases A, B, A, B: a hot core of 40, two sets of 250 that take turns, and 60 cold ones. A test of the code cache\'s eviction policy.',
      zh: '600 个小函数按 A、B、A、B 阶段调用：40 个热核心函数，两组轮流使用的 250 个函数，以及 60 个冷函数。用来测试代码缓存的淘汰策略。',
    },
    try: {
      en: 'Make the cache too small: code_cache.max_entries 300, then compare code_cache.eviction_policy lru, lfu and lru_lfu (A/B is handy here).',
      zh: '把缓存调小：code_cache.max_entries 设为 300，然后比较 code_cache.eviction_policy 的 lru、lfu 和 lru_lfu（这里用 A/B 对比很方便）。',
    },
    see: {
      en: 'The code cache chart: the hit rate drops at each phase change and recovers (or not, depending on the policy); entries stay at the cap and evictions grow.',
      zh: '代码缓存图：每次阶段切换时命中率下降，然后恢复（或者不恢复，取决于策略）；条目数停在上限，淘汰次数增加。',
    },
  },
  smc: {
    does: {
      en: 'Self-modifying code: writes two functions into a buffer, runs them, patches their instructions (with fence.i) and runs them again, 1000 rounds, checked against a C model.',
      zh: '自修改代码：把两个函数写入缓冲区，运行，修补其中的指令（执行 fence.i）后再运行，共 1000 轮，并与 C 模型对照检查。',
    },
    try: {
      en: 'Run it at the defaults, then set jit.invalidation_limit to 0 (never stop compiling code that keeps changing) and run again. Also try forcing everything through the JIT: jit.min_threshold 0, jit.max_threshold 0 and jit.enable_compile_time_budget false.',
      zh: '先用默认设置运行，再把 jit.invalidation_limit 设为 0（对不断变化的代码从不停止编译）后再运行一次。也可以强制所有代码走 JIT：jit.min_threshold 设为 0、jit.max_threshold 设为 0、jit.enable_compile_time_budget 设为 false。',
    },
    see: {
      en: 'The output stays correct either way (stale code would change the checksum line). At the defaults the code-churn chart shows a few invalidations, then the patched page is put aside (pages put aside: 2) and runs interpreted. With jit.invalidation_limit 0 every patch throws compiled code away and compiles it again: invalidations and compiles per second climb together, the compile-time chart fills with recompiles and the run is tens of times slower.',
      zh: '两种设置下输出都正确（过时的代码会改变 checksum 行）。默认设置下，代码变化图先出现几次作废，随后被修补的页被暂停编译（被暂停编译的页：2），改由解释器执行。jit.invalidation_limit 设为 0 时，每次修补都会丢弃已编译的代码再重新编译：每秒作废次数和编译次数一起上升，编译时间图里堆满重新编译，整次运行慢几十倍。',
    },
  },
  traps: {
    does: {
      en: 'Illegal instructions, ebreak, software and timer interrupts, then a trip M -> S -> U with ecalls and delegation. Prints a summary.',
      zh: '非法指令、ebreak、软件中断和定时器中断，然后从 M 到 S 到 U，并进行 ecall 和委托。最后打印总结。',
    },
    try: {
      en: 'Use Step block near the start and watch the privilege in the register view; then Run.',
      zh: '在开始阶段使用单步一个块，观察寄存器视图中的特权级；然后运行。',
    },
    see: {
      en: 'The console lists each trap; the report\'s traps section counts them by cause. Most time is spent waiting for timer interrupts, which the machine skips ahead to.',
      zh: '控制台列出每次陷入；报告的 traps 部分按原因计数。大部分时间在等待定时器中断，虚拟机会直接跳到下一次中断。',
    },
  },
  spin: {
    does: {
      en: 'Prints one line and then loops for ever without I/O: a runaway guest.',
      zh: '打印一行后无限循环，没有任何输入输出：一个失控的客户程序。',
    },
    try: {
      en: 'Run it and press Stop. Try a high jit.min_threshold to see the loop stay interpreted longer.',
      zh: '运行它，然后按停止。试着调高 jit.min_threshold，看循环在解释器里停留更久。',
    },
    see: {
      en: 'Stop ends it within a tenth of a second; the MIPS chart jumps once the loop is compiled.',
      zh: '停止会在十分之一秒内结束它；循环被编译后 MIPS 曲线会跳升。',
    },
  },
  'htif-hello': {
    does: {
      en: 'Prints "hello via htif" through HTIF (the tohost/fromhost convention of riscv-tests and Spike) and exits with 0 through HTIF.',
      zh: '通过 HTIF（riscv-tests 和 Spike 使用的 tohost/fromhost 约定）输出 "hello via htif"，并通过 HTIF 以 0 退出。',
    },
    try: {
      en: 'Nothing to tune: it shows the second exit and output convention a program of your own may use.',
      zh: '没有需要调的参数：它演示了自己的程序可以使用的第二种输出和退出约定。',
    },
    see: { en: 'The console line and state "exit 0".', zh: '控制台的一行输出和状态 "exit 0"。' },
  },
  'htif-fail': {
    does: {
      en: 'Prints one line through HTIF and exits with code 5 through HTIF.',
      zh: '通过 HTIF 输出一行，并通过 HTIF 以代码 5 退出。',
    },
    try: { en: 'Just run it.', zh: '直接运行。' },
    see: { en: 'The state shows "exit 5": a failing guest is a result, not a page error.', zh: '状态显示 "exit 5"：客户程序失败是一种结果，而不是页面错误。' },
  },
  'wfi-forever': {
    does: {
      en: 'Prints one line, disables every interrupt and waits (wfi) for ever: nothing can wake it.',
      zh: '打印一行，关闭所有中断，然后永远等待（wfi）：没有任何东西能唤醒它。',
    },
    try: { en: 'Run it.', zh: '运行它。' },
    see: {
      en: 'The machine sees that no interrupt can arrive and ends the run as "asleep" instead of spinning.',
      zh: '虚拟机发现不可能再有中断到来，于是以 "asleep" 结束运行，而不是空转。',
    },
  },
};

export const WORKLOAD_NAMES = Object.keys(WORKLOADS);

/** Fetches workloads/NAME.elf as bytes; throws Error with a readable reason. */
export async function fetchWorkload(name) {
  const res = await fetch(`workloads/${encodeURIComponent(name)}.elf`);
  if (!res.ok) throw new Error(`workloads/${name}.elf: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}
