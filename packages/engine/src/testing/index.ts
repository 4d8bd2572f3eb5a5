// Test tooling shipped for users and for the packages above the engine: the fault-injecting
// file layer (power cuts, EIO/ENOSPC at the k-th operation). Filled in by the reliability work.
export {};
