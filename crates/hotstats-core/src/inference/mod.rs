//! Statistical inference: the distribution functions behind p-values ([`special`]).

pub mod special;
