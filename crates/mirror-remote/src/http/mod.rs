//! The HTTP(S) side of `mirror`: reading directory trees that web servers publish as index
//! pages. [`index`] parses those pages; the backend that fetches them comes later.

pub mod index;
