#!/usr/bin/env python3
"""Show or patch the parameter block of a paging workload ELF.

    tools/paging-params.py bin/paging.elf
    tools/paging-params.py bin/paging.elf -o /tmp/p.elf --pages 4096 --random 1

The block is the symbol `paging_params` (0x8001_0000 in the shipped builds):
six little-endian u64 fields, pages, stride, random, passes, seed, magic.
Only the Python standard library is used.
"""
import argparse
import struct
import sys

FIELDS = ["pages", "stride", "random", "passes", "seed", "magic"]
MAGIC = 0x474E494741505654  # "TVPAGING"


def find_block(elf: bytes):
    """Return (vaddr, file offset) of paging_params."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        sys.exit("not a little-endian ELF64 file")
    (e_phoff, e_shoff) = struct.unpack_from("<QQ", elf, 0x20)
    (e_phentsize, e_phnum, e_shentsize, e_shnum) = struct.unpack_from("<HHHH", elf, 0x36)
    vaddr = None
    for i in range(e_shnum):
        sh = e_shoff + i * e_shentsize
        sh_type, = struct.unpack_from("<I", elf, sh + 4)
        if sh_type != 2:  # SHT_SYMTAB
            continue
        sh_offset, sh_size = struct.unpack_from("<QQ", elf, sh + 0x18)
        sh_link, = struct.unpack_from("<I", elf, sh + 0x28)
        sh_entsize, = struct.unpack_from("<Q", elf, sh + 0x38)
        strtab_off, = struct.unpack_from("<Q", elf, e_shoff + sh_link * e_shentsize + 0x18)
        for off in range(sh_offset, sh_offset + sh_size, sh_entsize):
            st_name, = struct.unpack_from("<I", elf, off)
            end = elf.index(b"\0", strtab_off + st_name)
            if elf[strtab_off + st_name:end] == b"paging_params":
                vaddr, = struct.unpack_from("<Q", elf, off + 8)
    if vaddr is None:
        vaddr = 0x80010000  # stripped ELF: the documented address
    for i in range(e_phnum):
        ph = e_phoff + i * e_phentsize
        p_type, = struct.unpack_from("<I", elf, ph)
        p_offset, p_vaddr, _, p_filesz = struct.unpack_from("<QQQQ", elf, ph + 8)
        if p_type == 1 and p_vaddr <= vaddr and vaddr + 48 <= p_vaddr + p_filesz:
            return vaddr, p_offset + vaddr - p_vaddr
    sys.exit("paging_params is not in a loaded segment")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("elf")
    ap.add_argument("-o", "--output", help="write the patched ELF here (default: only show)")
    for f in FIELDS[:-1]:
        ap.add_argument("--" + f, type=lambda s: int(s, 0))
    args = ap.parse_args()

    elf = bytearray(open(args.elf, "rb").read())
    vaddr, off = find_block(elf)
    values = list(struct.unpack_from("<6Q", elf, off))
    if values[5] != MAGIC:
        sys.exit(f"no parameter block at 0x{vaddr:x} (magic 0x{values[5]:x})")
    for i, f in enumerate(FIELDS[:-1]):
        v = getattr(args, f)
        if v is not None:
            values[i] = v
    struct.pack_into("<6Q", elf, off, *values)
    print(f"paging_params at 0x{vaddr:x} (file offset 0x{off:x}): " +
          " ".join(f"{f}={v:#x}" if f in ("seed", "magic") else f"{f}={v}"
                   for f, v in zip(FIELDS, values)))
    if args.output:
        open(args.output, "wb").write(elf)
        print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
