pub mod cn_icbc;
pub mod dialect;
pub mod error;
pub mod iso20022;
pub mod model;
pub mod payment_read;
pub mod transport;
pub mod xml;
