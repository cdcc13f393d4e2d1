//! The local-folder backend (`site=file:///path`, and every local destination).
