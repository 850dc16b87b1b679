//! CloudFormation and SAM templates (interim: the reader replaces this).

use crate::{IacError, IacErrors, Options, Read};

pub(crate) fn recognise(_head: &str) -> bool {
    false
}

pub(crate) fn read_template(
    display: &str,
    _text: &str,
    _opts: &Options,
) -> Result<Read, IacErrors> {
    Err(IacError::new(display, 0, 0, "templates are not read by this build").into())
}
