//! Errors in templates and plans: compiler-style, with file, line, column and a hint.

use std::fmt;

use hlaudit_model::invisible;

/// One problem in a template, CDK assembly or plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", self.location())]
pub struct IacError {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line; 0 when the error is about the whole file.
    pub line: usize,
    /// 1-based column; 0 when unknown.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// The source line, when it could be shown.
    pub snippet: Option<String>,
    /// A suggestion for fixing it.
    pub hint: Option<String>,
}

impl IacError {
    /// An error at a place in a file.
    pub fn new(file: &str, line: usize, column: usize, message: impl Into<String>) -> Self {
        IacError {
            file: file.to_owned(),
            line,
            column,
            message: message.into(),
            snippet: None,
            hint: None,
        }
    }

    /// Adds a hint (builder style).
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds the source line, taken from `text` (builder style).
    pub fn with_source(mut self, text: &str) -> Self {
        if self.line > 0 {
            self.snippet = text.lines().nth(self.line - 1).map(str::to_owned);
        }
        self
    }

    /// `file:line:column`, or just `file`.
    pub fn location(&self) -> String {
        match (self.line, self.column) {
            (0, _) => self.file.clone(),
            (l, 0) => format!("{}:{l}", self.file),
            (l, c) => format!("{}:{l}:{c}", self.file),
        }
    }

    /// The compiler-style rendering: `error: ...`, ` --> file:line:col`, the source line
    /// with a caret under the column, and the hint.
    pub fn render(&self) -> String {
        let mut out = format!("error: {}\n", invisible::escape(&self.message));
        let gutter = if self.line == 0 {
            1
        } else {
            self.line.to_string().len()
        };
        let pad = " ".repeat(gutter);
        out.push_str(&format!("{pad}--> {}\n", self.location()));
        if let Some(s) = &self.snippet {
            let shown = invisible::escape(s);
            out.push_str(&format!("{pad} |\n"));
            out.push_str(format!("{} | {}", self.line, shown).trim_end());
            out.push('\n');
            // The caret sits under the column (counted in characters of the line).
            let caret = self.column.max(1) - 1;
            out.push_str(&format!("{pad} | {}^\n", " ".repeat(caret)));
        }
        if let Some(h) = &self.hint {
            out.push_str(&format!("{pad} = hint: {h}\n"));
        }
        out
    }
}

/// Every problem found, in file order then position.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IacErrors(pub Vec<IacError>);

impl fmt::Display for IacErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.0 {
            f.write_str(&e.render())?;
        }
        Ok(())
    }
}

impl std::error::Error for IacErrors {}

impl From<IacError> for IacErrors {
    fn from(e: IacError) -> Self {
        IacErrors(vec![e])
    }
}
