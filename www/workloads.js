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
      en: 'An interactive program: it waits for a line on the console, answers with the line\'s number, its length in bytes and the line reversed character by character (Chinese text comes back whole), and ends with "bye" when you type quit.',
      zh: '一个交互式程序：等待控制台输入一行，回答行号、字节长度和按字符倒过来的这一行（中文也能完整地倒过来）；输入 quit 后输出 "bye" 并结束。',
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
      en: 'Set jit.enabled to false to see the MMU\'s own levels and Run; then make mmu.multilevel_tlb_config.l1_entries 64 and Run, then 66 and Run.',
      zh: '把 jit.enabled 设为 false，直接看 MMU 自己的各级 TLB，运行；再把 mmu.multilevel_tlb_config.l1_entries 设为 64 运行，然后设为 66 再运行。',
    },
    see: {
      en: 'The l1 line in the TLB chart: about 67 % at 16 entries and still 67 % at 64, then 100 % at 66. Two of every three lookups are instruction fetches, which always hit; every data access misses L1 as long as it holds fewer entries than the loop touches pages: the 64 data pages plus the kernel\'s code and stack pages, swept in the same order each pass, so LRU always evicts the page needed next (L2 catches them all). With the JIT on, the inline TLB inside generated code serves most lookups before l1 sees them.',
      zh: '看 TLB 图中的 l1 曲线：16 项时约 67 %，64 项时仍是 67 %，66 项时变成 100 %。每三次查找中有两次是取指，总能命中；而只要 L1 的项数少于循环用到的页数（64 个数据页，加上内核代码页和栈页），每一次数据访问都会在 L1 中未命中：每一遍都按同样的顺序扫过这些页，LRU 淘汰的总是下一个要用的页（L2 全部接住）。开启 JIT 时，生成代码里的内联 TLB 会先处理大部分查找，l1 只看到剩下的部分。',
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
      en: 'At the defaults the cache keeps all of it (about 1 050 units, no eviction). Make it a little too small: code_cache.max_entries 950, then compare code_cache.eviction_policy lru, lru_lfu and lfu (A/B is handy here). Much smaller caches (300) thrash for a minute or more.',
      zh: '默认设置下缓存能装下全部代码（约 1050 个单元，没有淘汰）。把它调得稍小一点：code_cache.max_entries 设为 950，然后比较 code_cache.eviction_policy 的 lru、lru_lfu 和 lfu（这里用 A/B 对比很方便）。小得多的缓存（300）会来回颠簸一分钟以上。',
    },
    see: {
      en: 'The code cache chart: entries stay at the cap and the hit rate dips at each phase change. Measured in the page: lru evicts a few hundred units and recovers at once (hit rate 99.9 %); lru_lfu from a few hundred to over ten thousand (370 to 12,600 in the runs measured; these counts vary from run to run with timing: the more units a run makes, about 1,050 to 1,165 at the defaults, the closer 950 entries come to thrashing); lfu over a hundred thousand, and the run takes more than ten times as long: the finished phase\'s functions keep their high counts, so lfu evicts the new phase\'s code, which then has to be compiled again and again.',
      zh: '看代码缓存图：条目数停在上限，每次阶段切换时命中率下降。在页面中测得：lru 淘汰几百个单元，并立刻恢复（命中率 99.9%）；lru_lfu 从几百到一万多个（实测 370 到 12600 个；这些次数随时序变化，每次运行都不同：一次运行生成的单元越多（默认设置下约 1050 到 1165 个），950 个条目就越接近抖动）；lfu 则超过十万次淘汰，整次运行慢十倍以上：已经结束的阶段里的函数保留着很高的计数，所以 lfu 淘汰的是新阶段的代码，它们只好一次又一次地重新编译。',
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
      en: 'The output stays correct either way (stale code would change the checksum line). At the defaults the code-churn chart shows a few invalidations, then the patched page is put aside (pages put aside: 2) and runs interpreted. With jit.invalidation_limit 0 every patch throws compiled code away and compiles it again: invalidations and compiles per second climb together, the compile-time chart fills with recompiles and the run is several times slower (about ten times on the machines we measured).',
      zh: '两种设置下输出都正确（过时的代码会改变 checksum 行）。默认设置下，代码变化图先出现几次作废，随后被修补的页被暂停编译（被暂停编译的页：2），改由解释器执行。jit.invalidation_limit 设为 0 时，每次修补都会丢弃已编译的代码再重新编译：每秒作废次数和编译次数一起上升，编译时间图里堆满重新编译，整次运行慢好几倍（我们测得约十倍）。',
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
  'smp-hello': {
    does: {
      en: 'Every hart prints "hello from hart K of N", in hart order (each waits for its turn), then hart 0 prints "smp-hello: N harts said hello" and exits with 0. Needs runtime.vcpus above 1 to be interesting: set it to 4 in the knob section "vCPUs and workers" before Run (picking a workload changes no knob).',
      zh: '每个 hart 按编号顺序输出 "hello from hart K of N"（每个 hart 等到轮到自己才输出），然后 hart 0 输出 "smp-hello: N harts said hello" 并以 0 退出。runtime.vcpus 大于 1 时才有意思：运行前在参数分组“vCPU 与工作线程”里把它设为 4（选择工作负载不会改动任何参数）。',
    },
    try: {
      en: 'First set runtime.pool_size to 1: every vCPU then runs on one worker in a fixed order, and the figures below (measured that way) repeat run to run. runtime.vcpus 4, Run; then 1, 2 and 8. With 4, untick runtime.pause_yields and compare runtime.quantum_insns 1000 against the default 100000.',
      zh: '先把 runtime.pool_size 设为 1：所有 vCPU 按固定顺序在一个工作线程上运行，下面的数字就是这样测得的，每次运行都一样。runtime.vcpus 设为 4 后运行；再试 1、2 和 8。在 4 个 vCPU 下，取消勾选 runtime.pause_yields，再比较 runtime.quantum_insns 为 1000 和默认的 100000。',
    },
    see: {
      en: 'The lines always come in hart order. The SMP card (shown when there is more than one hart) lists each vCPU: on one worker all vCPUs take turns, and a hart waiting for its turn spins with pause, the spin-wait hint. By default (runtime.pause_yields) a pause ends the waiting hart\'s quantum, so the hart whose turn it is runs at once: with 4 vCPUs the whole run is about 3 000 instructions (the card\'s pauses column counts the hand-offs). With runtime.pause_yields off a waiting hart spins until its quantum ends: with 4 vCPUs about 300 000 instructions at the default quantum, about 4 000 with runtime.quantum_insns 1000. The run is shorter than one million instructions, so the run-queue chart has no points.',
      zh: '各行总是按 hart 编号的顺序出现。SMP 卡片（多于一个 hart 时显示）列出每个 vCPU：在一个工作线程上所有 vCPU 轮流运行，等待轮到自己的 hart 用自旋等待提示 pause 空转。默认情况下（runtime.pause_yields）一条 pause 就结束等待者的时间片，轮到的 hart 立刻运行：4 个 vCPU 时整次运行约 3000 条指令（卡片的 pause 一栏记下了这些交接）。关掉 runtime.pause_yields 后，等待的 hart 会一直空转到时间片结束：4 个 vCPU 时，默认时间片下约 30 万条指令，runtime.quantum_insns 为 1000 时约 4000 条。整次运行不到一百万条指令，所以运行队列图没有数据点。',
    },
  },
  'smp-sum': {
    does: {
      en: 'A parallel integer kernel: 9 million indices are hashed, one contiguous slice per hart, each hart keeping its sums in registers; after a barrier hart 0 adds up the partial results (about 200 M instructions for any number of harts). The checksum line is the same on any number of harts.',
      zh: '一个并行整数计算核：对 900 万个下标做哈希，每个 hart 负责连续的一段，部分和保存在寄存器里；在一次屏障同步之后，hart 0 把各部分结果加起来（无论几个 hart，都约 2 亿条指令）。checksum 一行在任何 hart 数下都相同。',
    },
    try: {
      en: 'First set runtime.pool_size to 1: every vCPU then runs on one worker in a fixed order, and the figures below (measured that way) repeat run to run. Run it with runtime.vcpus 1, then 2 and 4 (A/B compares two of them); then, with 4, runtime.quantum_insns 1000 against the default 100000; then jit.enabled off.',
      zh: '先把 runtime.pool_size 设为 1：所有 vCPU 按固定顺序在一个工作线程上运行，下面的数字就是这样测得的，每次运行都一样。分别用 runtime.vcpus 为 1、2、4 运行（A/B 可以比较其中两个）；然后在 4 个 vCPU 下比较 runtime.quantum_insns 为 1000 和默认的 100000；再关闭 jit.enabled 试试。',
    },
    see: {
      en: 'On one worker more vCPUs do not make it faster: all vCPUs are tasks on that worker and take turns, so the SMP card shows that worker busy nearly 100 % of the time, each vCPU running about 1/N of the run and waiting for the worker the rest, the run queue near the number of vCPUs and busy vCPUs near 1. It takes about as long or longer (the times vary from run to run): each hart compiles the loop for itself (units compiled grow with the vCPUs), and each switch costs. runtime.quantum_insns 1000 means about a hundred times as many switches and a run many times slower. Then set runtime.pool_size to 2 and untick jit.enabled: the vCPUs now run at once on Web Workers that share the guest\'s memory, 2 vCPUs finish sooner than 1 (1.1x to 1.5x on a 2-core machine, where drawing the page and the other threads of the browser take part of the second core), and the SMP card shows both workers busy with the vCPUs\' running times adding up to more than the wall time. With the JIT on, the kernel is over in well under 0.1 s, most of it compiling, and more workers do not pay. The CLI shows the same with OS threads: tunevm sweep --knob runtime.vcpus=1,2,4 --knob runtime.pool_size=1,2 workloads/bin/smp-sum.elf prints wall time and speed-up for each pair; how much it gains depends on the host\'s free cores.',
      zh: '在一个工作线程上，vCPU 越多并不会越快：所有 vCPU 都是这个工作线程上的任务，只能轮流运行。所以 SMP 卡片显示该工作线程几乎 100 % 忙碌，每个 vCPU 大约只有 1/N 的时间在运行、其余时间在等待工作线程，运行队列接近 vCPU 数，忙碌的 vCPU 接近 1。耗时大致相同甚至更长（每次运行的时间会有波动）：每个 hart 都要为自己编译一遍循环（已编译单元数随 vCPU 数增加），每次切换也有开销。runtime.quantum_insns 为 1000 时切换次数约多一百倍，运行会慢很多倍。然后把 runtime.pool_size 设为 2，并取消勾选 jit.enabled：vCPU 现在在共享客户内存的多个 Web Worker 上同时运行，2 个 vCPU 比 1 个更快完成（在双核机器上约 1.1 到 1.5 倍，因为页面自身的绘制和浏览器的线程也要占用第二个核的一部分），SMP 卡片显示两个工作线程都在忙，各 vCPU 的运行时间之和超过墙钟时间。开启 JIT 时，这个计算核不到 0.1 秒就结束，大部分时间在编译，多开工作线程并不划算。CLI 用操作系统线程也能看到同样的结果：tunevm sweep --knob runtime.vcpus=1,2,4 --knob runtime.pool_size=1,2 workloads/bin/smp-sum.elf 会列出每种组合的墙钟时间和加速比；能快多少取决于宿主机空闲的核数。',
    },
  },
  'smp-sum-small': {
    does: {
      en: 'smp-sum with 450 000 indices (about 10 M instructions): the same kernel and checks, over in well under a second.',
      zh: '只有 45 万个下标的 smp-sum（约 1000 万条指令）：同样的计算核和检查，不到一秒就结束。',
    },
    try: {
      en: 'First set runtime.pool_size to 1: every vCPU then runs on one worker in a fixed order, and the figures below (measured that way) repeat run to run. The same knobs as smp-sum (runtime.vcpus 1, 2, 4; runtime.quantum_insns 1000 against 100000; jit.enabled), for quick comparisons.',
      zh: '先把 runtime.pool_size 设为 1：所有 vCPU 按固定顺序在一个工作线程上运行，下面的数字就是这样测得的，每次运行都一样。与 smp-sum 相同的参数（runtime.vcpus 为 1、2、4；runtime.quantum_insns 为 1000 与 100000；jit.enabled），适合快速比较。',
    },
    see: {
      en: 'What smp-sum shows, on a smaller scale: about ten points in the run-queue chart (one per million instructions), one worker near 100 % busy, and no gain from more vCPUs on this page.',
      zh: '与 smp-sum 相同的现象，规模更小：运行队列图约有十个点（每百万条指令一个），一个工作线程接近 100 % 忙碌，在本页面上增加 vCPU 没有收益。',
    },
  },
  'smp-locks': {
    does: {
      en: 'Two shared counters, each guarded by a lock: an LR/SC spinlock, then a ticket lock (amoadd draws a ticket). Every hart increments each counter inside its lock; hart 0 checks that both counts are exactly harts x increments and exits with 0 (1 if an increment was lost). Set runtime.vcpus to 2 or 4 first.',
      zh: '两个共享计数器，各由一把锁保护：先是 LR/SC 自旋锁，然后是排号锁（用 amoadd 取号）。每个 hart 在锁内对两个计数器各做若干次加一；hart 0 检查两个计数是否正好等于 hart 数 × 次数，是则以 0 退出（丢失了加一则以 1 退出）。请先把 runtime.vcpus 设为 2 或 4。',
    },
    try: {
      en: 'First set runtime.pool_size to 1: every vCPU then runs on one worker in a fixed order, and the figures below (measured that way) repeat run to run. runtime.vcpus 2, Run; then untick runtime.pause_yields and compare runtime.quantum_insns 1000 against the default 100000; then runtime.vcpus 4.',
      zh: '先把 runtime.pool_size 设为 1：所有 vCPU 按固定顺序在一个工作线程上运行，下面的数字就是这样测得的，每次运行都一样。runtime.vcpus 设为 2 后运行；然后取消勾选 runtime.pause_yields，比较 runtime.quantum_insns 为 1000 和默认的 100000；再试 runtime.vcpus 为 4。',
    },
    see: {
      en: 'The counts are exact on any number of harts. The instructions are not: on one worker the vCPUs take turns, so a hart that waits for a lock whose holder is not running spins. Both locks spin with pause, the spin-wait hint, and by default (runtime.pause_yields) a pause ends the spinning hart\'s quantum, so the holder gets the worker back at once: with 2 harts the whole run is about 350 000 instructions (the SMP card\'s pauses per vCPU). With runtime.pause_yields off a waiter spins until its quantum ends: at the default quantum that is hundreds of millions of instructions, nearly all spinning (the SMP card\'s instructions per vCPU); with runtime.quantum_insns 1000 the holder gets the worker back sooner and the run needs about ten million. With 4 harts the ticket lock makes a waiter far back in the queue sleep (the SMP card\'s parks). In the CLI with runtime.pool_size 2 the holder and a waiter run at once.',
      zh: '无论几个 hart，计数都准确无误。指令数却不同：在一个工作线程上各 vCPU 轮流运行，等待锁的 hart 如果锁的持有者此刻没有运行，就只能空转。两种锁都用自旋等待提示 pause 空转，默认情况下（runtime.pause_yields）一条 pause 就结束空转 hart 的时间片，持有者立刻拿回工作线程：2 个 hart 时整次运行约 35 万条指令（见 SMP 卡片中每个 vCPU 的 pause 次数）。关掉 runtime.pause_yields 后，等待者会一直空转到自己的时间片结束：默认时间片下这会多出数亿条指令，几乎全是空转（见 SMP 卡片中每个 vCPU 的指令数）；runtime.quantum_insns 为 1000 时持有者能更快拿回工作线程，整次运行只需约一千万条指令。4 个 hart 时，排号锁会让排在后面的等待者休眠（见 SMP 卡片中的休眠次数）。在 CLI 中用 runtime.pool_size 2 时，持有者和等待者可以同时运行。',
    },
  },
  'smp-ring': {
    does: {
      en: 'Message passing: the harts form a chain 0 -> 1 -> ... -> N-1 of single-producer single-consumer rings (64 slots); hart 0 sends 50 000 messages, every hart checks their order and passes them on, and the last one folds them into a checksum that does not depend on the number of harts. A side that finds its ring empty (or full) polls a little, then sleeps in wfi until the other side sends it an IPI. Needs runtime.vcpus 2 or more (with one hart it says so and exits).',
      zh: '消息传递：各 hart 通过单生产者单消费者环形缓冲区（64 个槽）串成一条链 0 -> 1 -> ... -> N-1；hart 0 发出 50000 条消息，每个 hart 检查顺序后往下传，最后一个 hart 把它们折叠成校验和，校验和与 hart 数无关。发现自己的环为空（或为满）的一方先轮询一会儿，然后在 wfi 中休眠，直到另一方发来 IPI。需要 runtime.vcpus 为 2 或更多（只有一个 hart 时它会说明并退出）。',
    },
    try: {
      en: 'First set runtime.pool_size to 1: every vCPU then runs on one worker in a fixed order, and the figures below (measured that way) repeat run to run. runtime.vcpus 2 and 4; with each, Run, then untick runtime.pause_yields and compare runtime.quantum_insns 1000 against the default 100000.',
      zh: '先把 runtime.pool_size 设为 1：所有 vCPU 按固定顺序在一个工作线程上运行，下面的数字就是这样测得的，每次运行都一样。runtime.vcpus 分别设为 2 和 4；每种情况下先运行一次，再取消勾选 runtime.pause_yields，比较 runtime.quantum_insns 为 1000 和默认的 100000。',
    },
    see: {
      en: 'The checksum line is the same each time; the "~ " lines (how often each hart slept, IPIs it sent) depend on timing. In the SMP card: IPIs sent and received, pauses and parks per vCPU, and parked time in the time bars. A side that finds its ring empty (or full) polls with pause, and by default (runtime.pause_yields) each pause hands the worker to the other side, the one that can make progress, so at either quantum harts hardly ever sleep. With runtime.pause_yields off, at the default quantum a hart fills or drains its ring within its quantum and then sleeps, so harts park hundreds of times; with runtime.quantum_insns 1000 the other side runs before the polling is over, and harts hardly ever sleep.',
      zh: 'checksum 一行每次都相同；以 "~ " 开头的行（每个 hart 休眠了几次、发了多少 IPI）取决于时序。在 SMP 卡片中：每个 vCPU 发出和收到的 IPI、pause 次数和休眠次数，以及时间条中的休眠时间。发现自己的环为空（或为满）的一方用 pause 轮询，默认情况下（runtime.pause_yields）每条 pause 都把工作线程交给另一方，也就是能往前推进的那一方，所以无论时间片长短 hart 几乎都不休眠。关掉 runtime.pause_yields 后，默认时间片下，一个 hart 在自己的时间片内就把环填满或取空，然后休眠，所以各 hart 会休眠数百次；runtime.quantum_insns 为 1000 时，另一方在轮询结束前就已开始运行，hart 几乎不休眠。',
    },
  },
  selftime: {
    does: {
      en: 'A guest benchmark that times itself, as benchmarks do on real machines: it reads mtime, runs 3 million rounds of an integer kernel, reads mtime again and prints the elapsed ticks (10 MHz), the time they stand for and a score.',
      zh: '一个给自己计时的客户机基准程序，和真实机器上的基准程序一样：读取 mtime，运行 300 万轮整数计算，再读取 mtime，输出经过的刻度数（10 MHz）、对应的时间和一个分数。',
    },
    try: {
      en: 'Run it with jit.enabled on and then off; then tick runtime.host_time and do both again.',
      zh: '先在 jit.enabled 打开和关闭时各运行一次；再勾选 runtime.host_time，重复这两次。',
    },
    see: {
      en: 'The console. With the default guest time mtime counts instructions (one tick per 10), so the JIT on or off prints the same 3 900 001 ticks and the same score: a guest benchmark cannot see tuning, which is what keeps runs reproducible. With runtime.host_time mtime follows the host clock and the score shows the real speed: the JIT run takes about an eighth of the interpreted one\'s ticks natively and about a fourteenth in Chromium (on our machines: the page\'s interpreter is slower than the native one). The report\'s mips and wall time show the same difference in both modes.',
      zh: '看控制台。默认的客户机时间下，mtime 数的是指令（每 10 条一个刻度），所以 JIT 开或关都输出同样的 3900001 个刻度和同样的分数：客户机基准程序看不到调优的效果，这正是运行可复现的原因。勾选 runtime.host_time 后 mtime 跟随宿主机时钟，分数反映真实速度：JIT 运行的刻度数在本地大约是解释执行的八分之一，在 Chromium 中大约是十四分之一（在我们的机器上：页面里的解释器比本地的慢）。两种模式下，报告中的 mips 和墙钟时间都能看出同样的差别。',
    },
  },
  'smp-paging': {
    does: {
      en: 'Every hart switches to S-mode under one Sv39 page table and slides over the same 2048 pages (8 MiB) in overlapping windows of 128 pages, each hart loading one word from every page of each window; a barrier every 4 windows keeps the harts close. Each hart sums what it loaded, so the checksum does not depend on the hart count. Made for comparing TLB strategies with several vCPUs.',
      zh: '每个 hart 都切换到 S 模式，使用同一张 Sv39 页表，以 128 页为一个窗口、窗口相互重叠地扫过同样的 2048 个页（8 MiB），每个 hart 从窗口中的每一页读取一个字；每 4 个窗口设一个屏障，让各 hart 保持同步。每个 hart 把读到的值求和，所以校验和与 hart 数量无关。用来对比多个 vCPU 下的 TLB 策略。',
    },
    try: {
      en: 'First set runtime.pool_size to 1: every vCPU then runs on one worker in a fixed order, and the figures below (measured that way) repeat run to run. runtime.vcpus 4, mmu.strategy multi_level, Run; then mmu.strategy concurrent, Run; then hybrid. Untick mmu.enable_prefetch to see every demand walk.',
      zh: '先把 runtime.pool_size 设为 1：所有 vCPU 按固定顺序在一个工作线程上运行，下面的数字就是这样测得的，每次运行都一样。runtime.vcpus 设为 4、mmu.strategy 设为 multi_level 后运行；再改为 concurrent 运行；再试 hybrid。取消勾选 mmu.enable_prefetch 可以看到所有按需页表遍历。',
    },
    see: {
      en: 'tlb.walks in the report, and the line under the TLB chart. Private multi_level TLBs walk each new page once per hart; the shared concurrent TLB walks it once for all four (with prefetch off and jit.enabled off, so that every load reaches the MMU: about 262 000 walks against 67 000), but takes a shard lock for every lookup that reaches it (tlb.lock_acquisitions). hybrid starts shared and measures how often a lock was held by another hart; on this page all vCPUs take turns on one worker, so no lock ever waits and hybrid keeps the shared TLB. With the JIT on about three loads in four hit its per-hart inline TLB first (the inline line of the TLB chart), so only about a quarter as many lookups reach the MMU (the rest are each hart\'s first loads from a page it has not used lately).',
      zh: '看报告中的 tlb.walks 和 TLB 图下方的说明。独享的 multi_level TLB 中，每个新页面每个 hart 都要遍历一次页表；共用的 concurrent TLB 对四个 hart 只遍历一次（关掉预取和 jit.enabled、让每次读取都到达 MMU 时，约 26.2 万次对 6.7 万次），但每次到达它的查找都要加分片锁（tlb.lock_acquisitions）。hybrid 先共用，并统计锁被其他 hart 持有的比例；本页面上所有 vCPU 轮流使用一个工作线程，锁从不需要等待，所以 hybrid 保持共用。打开 JIT 时约四分之三的读取先命中每个 hart 自己的内联 TLB（TLB 图中的 inline 曲线），到达 MMU 的查找只有约四分之一（剩下的是每个 hart 对近来没用过的页的第一次读取）。',
    },
  },
  'smp-litmus': {
    does: {
      en: 'Memory-model litmus tests between harts 0 and 1: message passing (MP), store buffering (SB) and load buffering (LB), each without and with fences, 2000 runs each. A forbidden outcome makes it exit with 1; lines starting with "~ " hold counts that depend on timing. Needs runtime.vcpus 2 or more, and on this page runtime.quantum_insns 1000 (at the default, the harts spend billions of instructions waiting for each other at the barriers between runs).',
      zh: 'hart 0 与 hart 1 之间的内存模型 litmus 测试：消息传递（MP）、存储缓冲（SB）和加载缓冲（LB），每种分别在无 fence 和有 fence 下各运行 2000 次。出现被禁止的结果时以 1 退出；以 "~ " 开头的行是取决于时序的计数。需要 runtime.vcpus 为 2 或更多，并且在本页面上需要 runtime.quantum_insns 设为 1000（默认值下，两个 hart 会在每次运行之间的屏障处相互等待，耗掉数十亿条指令）。',
    },
    try: {
      en: 'First set runtime.pool_size to 1: every vCPU then runs on one worker in a fixed order, and the figures below (measured that way) repeat run to run. runtime.vcpus 2 and runtime.quantum_insns 1000, Run; then runtime.quantum_insns 10000; then untick runtime.pause_yields and run both again.',
      zh: '先把 runtime.pool_size 设为 1：所有 vCPU 按固定顺序在一个工作线程上运行，下面的数字就是这样测得的，每次运行都一样。runtime.vcpus 设为 2、runtime.quantum_insns 设为 1000 后运行；再试 runtime.quantum_insns 为 10000；然后取消勾选 runtime.pause_yields，两种时间片各再运行一次。',
    },
    see: {
      en: '"no forbidden outcome" at the end. On one worker the relaxed outcomes never appear (relaxed 0/2000): the two harts take turns, so every run sees one interleaving of whole quanta, which is sequentially consistent, and the "~ " counts show a single outcome per test. The harts meet at a barrier before and after every run, spinning with pause; by default (runtime.pause_yields) a pause ends the waiting hart\'s quantum, so the test takes about 1.8 M instructions at either quantum. With runtime.pause_yields off a hart waiting at a barrier spins through its whole quantum: about 24 M instructions at quantum 1000, and with runtime.quantum_insns 10000 about ten times as many instructions (240 M instead of 24 M). The CLI runs the harts at the same time on OS threads: tunevm run --set runtime.vcpus=2 --set runtime.pool_size=2 --set runtime.quantum_insns=1000 workloads/bin/smp-litmus.elf can show SB\'s relaxed outcome (r1=0 r2=0) without fences, the store buffer of an x86 host, and never with them.',
      zh: '最后输出 "no forbidden outcome"。在一个工作线程上宽松结果从不出现（relaxed 0/2000）：两个 hart 轮流运行，每次运行看到的都是以整个时间片为单位的交错，是顺序一致的，所以 "~ " 行中每个测试只有一种结果。每轮测试前后两个 hart 都在屏障处用 pause 空转等待；默认情况下（runtime.pause_yields）一条 pause 就结束等待者的时间片，所以无论时间片是 1000 还是 10000，整个测试都约需 180 万条指令。关掉 runtime.pause_yields 后，在屏障处等待的 hart 会空转完整个时间片：时间片为 1000 时约 2400 万条指令，runtime.quantum_insns 为 10000 时指令数约为十倍（2.4 亿而不是 2400 万）。CLI 在操作系统线程上让两个 hart 同时运行：tunevm run --set runtime.vcpus=2 --set runtime.pool_size=2 --set runtime.quantum_insns=1000 workloads/bin/smp-litmus.elf 在没有 fence 时可能出现 SB 的宽松结果（r1=0 r2=0，即 x86 宿主机的存储缓冲），有 fence 时则从不出现。',
    },
  },
  'gc-binary-trees': {
    does: {
      en: 'The binary-trees benchmark on the guest\'s GC heap (the gc.* instructions): a stretch tree of depth 14, a long-lived tree of depth 13, and thousands of short-lived trees of depth 4 to 12, each node count checked (about 32 M instructions). Ends with "gc-binary-trees: ok".',
      zh: '在客户机的 GC 堆上（gc.* 指令）运行 binary-trees 基准：一棵深度 14 的伸展树、一棵深度 13 的长寿树，以及数千棵深度 4 到 12 的短命树，每棵树的节点数都会校验（约 3200 万条指令）。最后输出 "gc-binary-trees: ok"。',
    },
    try: {
      en: 'Run it with the defaults, then set gc.heap_size_limit to 8388608 (8 MiB) and Run again.',
      zh: '先用默认值运行，再把 gc.heap_size_limit 设为 8388608（8 MiB）后再次运行。',
    },
    see: {
      en: 'With the default 256 MiB heap the heap never fills: 0 collections, no pause, and the checklist\'s GC row stays grey. With 8 MiB it collects 5 times: the heap chart rises and falls below the 8 MiB line, the pause chart gets its points (how many depends on timing: 15 to about 300 in the runs measured; with concurrent marking, the default, the marker worker marks and most pauses are allocations that waited a few microseconds for its lock, the rest remarks and sweep slices; with so few longer pauses a single slow one, e.g. while the browser compiles or collects its own garbage, decides whether the checklist\'s GC row, p99 < 1 ms, is green or red), and the heap committed (under the heap chart) falls from about 20 MiB to about 6 MiB. The output is the same: the collector frees only garbage.',
      zh: '默认 256 MiB 的堆永远不会被填满：回收 0 次，没有停顿，检查表中的 GC 一行保持灰色。设为 8 MiB 后会回收 5 次：堆占用图在 8 MiB 线下起起落落，停顿图出现数据点（次数取决于时序：实测 15 到约 300 次；默认开启并发标记，由标记 Worker 负责标记，大多数停顿是分配等待它的锁的几微秒，其余是重新标记和清扫切片；较长的停顿这么少，单独一次慢停顿（例如浏览器正在编译或回收它自己的垃圾）就决定检查表的 GC 一行（p99 < 1 ms）是绿还是红），堆图下方的“已提交”从约 20 MiB 降到约 6 MiB。输出完全相同：回收器只释放垃圾。',
    },
  },
  'gc-graph': {
    does: {
      en: 'A graph of 16384 nodes changed while the collector marks: 90 000 random steps rewire edges, swap subtrees and replace nodes, plus short-lived garbage (about 34 M instructions). Every pointer store goes through the write barrier (its slow-path hits per shard are listed under the GC charts). Checked at three checkpoints; ends with "gc-graph: ok".',
      zh: '一张 16384 个节点的图，在回收器标记的同时不断被修改：90000 步随机操作改接边、交换子树、替换节点，另外还产生短命垃圾（约 3400 万条指令）。每次指针写入都经过写屏障（GC 图下方列出每个分片的慢路径次数）。在三个检查点校验；最后输出 "gc-graph: ok"。',
    },
    try: {
      en: 'Set gc.heap_size_limit to 8388608 (8 MiB; the default 256 MiB never collects) and Run: concurrent marking, the default. Then set gc.concurrent_marking to false (incremental slices on the vCPU\'s worker) and Run. Then set gc.incremental to false too (stop-the-world) and Run. Then set gc.incremental back to true, leave gc.concurrent_marking false, set gc.adaptive_quota to false and compare gc.mark_quota_us 100 with 5000.',
      zh: '把 gc.heap_size_limit 设为 8388608（8 MiB；默认的 256 MiB 永远不会回收）后运行：这是默认的并发标记。然后把 gc.concurrent_marking 设为 false（在 vCPU 所在的 Worker 上按切片增量标记）再运行。再把 gc.incremental 也设为 false（全停顿）运行。最后把 gc.incremental 改回 true，gc.concurrent_marking 保持 false，把 gc.adaptive_quota 设为 false，比较 gc.mark_quota_us 为 100 和 5000 的结果。',
    },
    see: {
      en: 'Concurrent (the default): the marker worker, a second Web Worker on the same shared memory, marks while the guest runs (the line under the GC charts says so). The guest stops only for a remark or when an allocation waits a few microseconds for the marker\'s lock: thousands of pauses (1,700 to 5,000 in the runs measured), the median (p50) at most a few hundredths of a millisecond and p99 a fraction of a millisecond (0.14 to 0.7 ms in most runs measured), so the checklist\'s GC row (p99 < 1 ms) is green. On a busy machine (the page, the vCPU\'s worker and the marker worker sharing two cores) an occasional run passes 1 ms: the system can stop the marker worker while it holds the collector\'s lock, and the guest waits for it. Marking can still fall behind in a few cycles (1 to 9 of about 20 in the runs measured), when the allocations fill the tight heap first. Incremental (gc.concurrent_marking false): several hundred pauses to about a thousand (the count depends on timing: 400 to 1,200 in the runs measured), p50 a fraction of a millisecond, because the marking now happens in those slices on the vCPU\'s worker; 8 MiB is tight for this graph: marking can fall behind the allocations, and the pause that ends each cycle lasts about a millisecond or more, so p99 sits near or above the 1 ms limit (0.92 to 6 ms in the runs measured): red on a loaded machine, green only on an idle one. Stop-the-world: 34 pauses, each a whole collection of several milliseconds (p50 a few ms). With a fixed quota, 100 µs slices mark too slowly and fall behind in many cycles (most of them in the runs measured), while 5000 µs slices keep up (fell behind 0 times) with well under half as many pauses (a quarter to two fifths of the 100 µs count in the runs measured). (In the plain build, without shared memory, there is no marker worker: concurrent marking falls back to incremental slices, and the same line says so.)',
      zh: '并发（默认）：标记 Worker（同一块共享内存上的第二个 Web Worker）在客户机运行的同时标记（GC 图下方的说明会写明）。客户机只在重新标记时，或某次分配等待标记 Worker 的锁几微秒时才停下：几千次停顿（实测 1700 到 5000 次），中位数（p50）至多百分之几毫秒，p99 不到一毫秒（多数实测为 0.14 到 0.7 ms），所以检查表的 GC 一行（p99 < 1 ms）为绿色。在繁忙的机器上（页面、vCPU 的 Worker 和标记 Worker 共用两个核心），偶尔会有一次运行超过 1 ms：系统可能在标记 Worker 持有回收器锁时把它停下，客户机只能等它。当分配先把这块紧张的堆填满时，仍可能有几个周期标记跟不上（实测约 20 个周期中 1 到 9 个）。增量（gc.concurrent_marking 为 false）：几百到约一千次停顿（次数取决于时序：实测 400 到 1200 次），p50 不到一毫秒，因为标记改在 vCPU 所在 Worker 上的这些切片里进行；8 MiB 对这张图来说很紧：标记可能跟不上分配，结束每个周期的停顿约一毫秒或更长，所以 p99 落在检查表 GC 一行的界限（p99 < 1 ms）附近或之上（实测 0.92 到 6 ms）：机器繁忙时为红色，只有空闲时才是绿色。全停顿：只有 34 次停顿，每次都是一整次回收，长达数毫秒（p50 为几毫秒）。固定配额时，100 µs 的切片标记太慢，很多周期都跟不上（实测大多数周期）；5000 µs 的切片能跟上（跟不上 0 次），停顿次数远少于一半（实测为 100 µs 时的四分之一到五分之二）。（普通构建没有共享内存，也就没有标记 Worker：并发标记退回为增量切片，同一行会说明。）',
    },
  },
  'gc-lru': {
    does: {
      en: 'An LRU cache of 2048 entries (hash table and recency list) whose values of 64 to 1024 bytes live on the GC heap: 120 000 lookups over 8192 keys, a full flush halfway (about 36 M instructions). Ends with "gc-lru: ok".',
      zh: '一个 2048 项的 LRU 缓存（哈希表加最近使用链表），64 到 1024 字节的值都放在 GC 堆上：对 8192 个键做 120000 次查找，中途整体清空一次（约 3600 万条指令）。最后输出 "gc-lru: ok"。',
    },
    try: {
      en: 'Set gc.heap_size_limit to 33554432 (32 MiB; the default 256 MiB never collects). Set gc.target_occupancy to 0.4 (it must stay below the trigger) and gc.trigger_threshold to 0.5, Run; then gc.trigger_threshold 0.95 and Run. A/B shows both side by side.',
      zh: '把 gc.heap_size_limit 设为 33554432（32 MiB；默认的 256 MiB 永远不会回收）。把 gc.target_occupancy 设为 0.4（它必须低于触发阈值），gc.trigger_threshold 设为 0.5，运行；再把 gc.trigger_threshold 设为 0.95 运行。A/B 可以把两者并排比较。',
    },
    see: {
      en: 'The heap committed (under the heap chart; "GC heap committed" in A/B): at 0.5 a cycle starts when the heap is half full, so it commits 16 to 17 MiB of the 32 and collects several times more often; at 0.95 it commits about 31 MiB, with 8 collections. An earlier trigger buys a smaller footprint with more collector work.',
      zh: '看堆的“已提交”大小（堆图下方；A/B 中的 “GC 堆已提交”）：阈值 0.5 时堆用到一半就开始回收，32 MiB 中只提交 16 到 17 MiB，回收次数多出好几倍；0.95 时提交约 31 MiB，回收 8 次。触发得早，内存占用小，但回收器要做更多工作。',
    },
  },
  'gc-exhaust': {
    does: {
      en: 'Keeps 48 MiB live on the GC heap in 764 chunks of 32 to 96 KiB with garbage between them, asks for a collection, then checks every chunk (about 2.3 M instructions). When an allocation fails it prints "out of GC heap: N KiB live of 48 MiB wanted" and exits with 3.',
      zh: '在 GC 堆上保持 48 MiB 存活数据（764 块，每块 32 到 96 KiB，中间夹着垃圾），请求一次回收，然后校验每一块（约 230 万条指令）。分配失败时输出 "out of GC heap: N KiB live of 48 MiB wanted" 并以 3 退出。',
    },
    try: {
      en: 'Run it with the defaults, then set gc.heap_size_limit to 33554432 (32 MiB) and Run.',
      zh: '先用默认值运行，再把 gc.heap_size_limit 设为 33554432（32 MiB）后运行。',
    },
    see: {
      en: 'With 256 MiB it ends with "gc-exhaust: ok" after one explicit collection. At 32 MiB the live data cannot fit: the collector runs when the heap fills, frees only the garbage, an allocation still fails (failed allocations 1, under the GC charts), and the program prints "out of GC heap: 25659 KiB live of 48 MiB wanted" and ends with exit 3. The run is too short for the heap chart\'s points (one per million instructions); the pauses show.',
      zh: '256 MiB 时，经过一次显式回收后输出 "gc-exhaust: ok"。32 MiB 时存活数据放不下：堆满时回收器运行，只能释放垃圾，分配仍然失败（GC 图下方显示分配失败 1 次），程序输出 "out of GC heap: 25659 KiB live of 48 MiB wanted" 并以 exit 3 结束。程序太短，堆占用图来不及记录数据点（每一百万条指令一个点）；停顿图照常显示。',
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
