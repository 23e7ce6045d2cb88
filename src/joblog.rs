//! SKELETON: the joblog/history helper replaces this file.
