//! Reference check: every workload that exits through the finisher runs under
//! QEMU (`qemu-system-riscv64 -machine virt -bios none`) and under tunevm, and
//! both must print the same console output and exit with the same status.
//! The HTIF workloads run on QEMU's `-machine spike`, which speaks HTIF.
//! The committed `workloads/expected/` files (recorded from QEMU) must match too.
//! A workload with an `expected/NAME.in` reads it as console input in both.
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn elf(name: &str) -> PathBuf {
    root().join("workloads/bin").join(format!("{name}.elf"))
}

/// Console input of a workload: `expected/NAME.in`, or nothing.
fn input(name: &str) -> Stdio {
    let path = root().join("workloads/expected").join(format!("{name}.in"));
    match std::fs::File::open(path) {
        Ok(file) => Stdio::from(file),
        Err(_) => Stdio::null(),
    }
}

/// (stdout, exit status) of a command, killed after `limit`.
fn run_with_limit(cmd: &mut Command, limit: Duration) -> (Vec<u8>, i32) {
    let mut child =
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap_or_else(|e| {
            panic!("cannot start {cmd:?}: {e} (scripts/test.sh installs QEMU)")
        });
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            return (out.stdout, status.code().unwrap_or(-1));
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{cmd:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn check(name: &str) {
    let machine = if name.starts_with("htif-") { "spike" } else { "virt" };
    let path = elf(name);
    let (qemu_out, qemu_status) = run_with_limit(
        Command::new("qemu-system-riscv64")
            .args(["-machine", machine, "-bios", "none", "-nographic", "-m", "256M"])
            .args(["-monitor", "none", "-serial", "stdio", "-kernel"])
            .arg(&path)
            .stdin(input(name)),
        Duration::from_secs(120),
    );
    let (vm_out, vm_status) = run_with_limit(
        Command::new(env!("CARGO_BIN_EXE_tunevm")).arg("run").arg(&path).stdin(input(name)),
        Duration::from_secs(120),
    );
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert_eq!(text(&vm_out), text(&qemu_out), "{name}: console output differs from QEMU");
    assert_eq!(vm_status, qemu_status, "{name}: exit status differs from QEMU");
    let expected = std::fs::read(root().join("workloads/expected").join(format!("{name}.out")))
        .expect("expected output recorded");
    assert_eq!(text(&vm_out), text(&expected), "{name}: differs from workloads/expected");
}

macro_rules! reference_tests {
    ($($test:ident => $name:literal,)*) => {
        $(#[test] fn $test() { check($name); })*

        /// Every finisher workload with a recorded result is covered above.
        #[test]
        fn every_finisher_workload_is_checked() {
            let covered = [$($name),*];
            for entry in std::fs::read_dir(root().join("workloads/expected")).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "code") {
                    let name = path.file_stem().unwrap().to_str().unwrap();
                    let code = std::fs::read_to_string(&path).unwrap();
                    let runs_forever = code.trim() == "124";
                    // NAME.smpN: a multi-hart run, checked by smp_workloads.rs.
                    let smp = name.contains(".smp");
                    // gc-*: they use tunevm's gc.* instructions (custom-0 opcode),
                    // which QEMU does not implement (it traps on them); their
                    // expected files come from a host build (tools/gc-expected.sh).
                    let gc = name.starts_with("gc-");
                    assert!(runs_forever || smp || gc || covered.contains(&name),
                        "workload {name} has no QEMU reference test");
                }
            }
        }
    };
}

reference_tests! {
    hello => "hello",
    echo => "echo",
    cpubench => "cpubench",
    mixbench => "mixbench",
    paging => "paging",
    paging_random => "paging-random",
    paging_stride => "paging-stride",
    smc => "smc",
    traps => "traps",
    phases => "phases",
    htif_hello => "htif-hello",
    htif_fail => "htif-fail",
}
