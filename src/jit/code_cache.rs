//! Code cache (added by its own change).
