//! The hlaudit policy language and rules engine: loading, validation, compilation, parallel evaluation.
