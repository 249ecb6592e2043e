//! The `Machine`: harts, memory and devices, and the loop that runs them.
