//! A CMS package as a small element tree.
//!
//! CMS packages are shallow (`CMS/eb/pub|in|out/rd/field`) and bounded by
//! the XML reader's size limit, so a tree keeps the field mapping readable:
//! each dialect function asks for the fields it maps, by name, and every
//! error carries the element's line, column and path.

use crate::error::{Position, ReadError};

/// One element: its leaf text (trimmed) and its child elements.
#[derive(Debug, Clone, Default)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
    pub position: Position,
}

impl Element {
    /// The first child called `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child called `name`, in document order (the repeating `rd` rows).
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of child `name`; `None` when the child is absent or empty
    /// (ICBC sends every optional element, mostly empty).
    pub fn opt(&self, name: &str) -> Option<&str> {
        self.child(name)
            .map(|c| c.text.as_str())
            .filter(|t| !t.is_empty())
    }

    /// Like [`Element::opt`], owned.
    pub fn opt_string(&self, name: &str) -> Option<String> {
        self.opt(name).map(str::to_owned)
    }

    /// The text of child `name`, or "" when absent.
    pub fn text_of(&self, name: &str) -> &str {
        self.opt(name).unwrap_or("")
    }

    /// The child `name`, which must be present.
    pub fn require_child(&self, name: &str) -> Result<&Element, ReadError> {
        self.child(name)
            .ok_or_else(|| self.invalid(format!("missing element <{name}>")))
    }

    /// The non-empty text of child `name`.
    pub fn require(&self, name: &str) -> Result<&str, ReadError> {
        match self.child(name) {
            Some(child) if !child.text.is_empty() => Ok(&child.text),
            Some(child) => Err(child.invalid(format!("<{name}> is empty"))),
            None => Err(self.invalid(format!("missing element <{name}>"))),
        }
    }

    /// The position of child `name` when present, else this element's.
    pub fn position_of(&self, name: &str) -> Position {
        self.child(name)
            .map(|c| c.position.clone())
            .unwrap_or_else(|| self.position.clone())
    }

    /// A content error at this element.
    pub fn invalid(&self, message: String) -> ReadError {
        ReadError::Invalid {
            position: self.position.clone(),
            message,
        }
    }

    /// A content error at child `name` (or here when it is absent).
    pub fn invalid_at(&self, name: &str, message: String) -> ReadError {
        ReadError::Invalid {
            position: self.position_of(name),
            message,
        }
    }
}
