//! SKELETON: the config helper replaces this file.
