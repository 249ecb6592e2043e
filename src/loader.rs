//! ELF loader for RV64 bare-metal executables.
