//! Errors of the readers and writers. Every read error says where in the file
//! it happened (line and column, and the element path when known), so an
//! integration engineer can find the fault without a debugger.

use std::fmt;

/// Where in a file a read error happened.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Position {
    /// 1-based line, 0 when unknown.
    pub line: u64,
    /// 1-based column, 0 when unknown.
    pub column: u64,
    /// Element path such as `/Document/BkToCstmrStmt/Stmt/Ntry/Amt`, empty when unknown.
    pub path: String,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}, column {}", self.line, self.column)?;
        }
        if !self.path.is_empty() {
            if self.line > 0 {
                f.write_str(" ")?;
            }
            write!(f, "at {}", self.path)?;
        }
        Ok(())
    }
}

/// A file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The XML is not well formed, or not in an encoding we know.
    #[error("malformed XML ({position}): {message}")]
    Malformed { position: Position, message: String },
    /// DTDs, entity declarations and external entities are refused outright
    /// (billion laughs, XXE).
    #[error("refused ({position}): {message}")]
    Refused { position: Position, message: String },
    /// A size, depth or length limit was exceeded.
    #[error("limit exceeded ({position}): {message}")]
    Limit { position: Position, message: String },
    /// Well-formed XML, but not the message we expected or a required element is missing or invalid.
    #[error("invalid content ({position}): {message}")]
    Invalid { position: Position, message: String },
    /// The root element or namespace is not a format we read.
    #[error("unknown format: {0}")]
    UnknownFormat(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// A batch could not be written; nothing is silently cut or replaced.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WriteError {
    /// A value is longer than the field allows.
    #[error("{field} is {length} characters long; the format allows at most {max}")]
    TooLong {
        field: String,
        length: usize,
        max: usize,
    },
    /// A value holds characters the format does not allow.
    #[error("{field} contains {character:?}, which the format does not allow")]
    BadCharacter { field: String, character: char },
    /// Any other value the format cannot carry (a negative amount, an empty batch, ...).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}
