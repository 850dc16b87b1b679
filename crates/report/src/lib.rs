//! hlaudit reporters: SARIF 2.1.0, JSON, JUnit, Markdown, HTML and terminal.
