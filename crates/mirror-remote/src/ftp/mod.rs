//! The FTP backend (`site=host`, `ftp://`). This module owns everything FTP-specific; so far
//! that is [`listing`], the parsers that turn `LIST`/`MLSD` text and `MDTM` replies into
//! entries. The control/data-connection code that feeds them lives beside it.

pub mod listing;
