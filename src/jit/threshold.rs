//! Adaptive compile threshold (added by its own change).
