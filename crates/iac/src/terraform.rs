//! Terraform plans (interim: the reader replaces this).

use crate::{FileKind, IacError, IacErrors, Options, Read};

pub(crate) fn recognise(_head: &str) -> Option<FileKind> {
    None
}

pub(crate) fn read_plan(display: &str, _text: &str, _opts: &Options) -> Result<Read, IacErrors> {
    Err(IacError::new(display, 0, 0, "plans are not read by this build").into())
}
