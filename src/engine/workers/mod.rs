//! Threads that own a model and answer typed requests (the newest request wins): the app's
//! inference worker and its side-by-side worker, over one mailbox.

pub mod compare_worker;
pub mod inference_worker;
pub mod mailbox;
