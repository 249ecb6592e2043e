//! TLB organisations used by `UnifiedMmu`.
