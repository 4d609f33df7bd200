//! LOBSTER (being written)
