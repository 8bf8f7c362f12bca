//! One line for a TOML file that does not parse: the file, the line and
//! column, what is wrong, and the text there. The toml crate's own report
//! spans several lines with a caret, which a one-line error (what regsim
//! prints for any bad input, and what CI logs and JUnit keep) cannot
//! carry; squashed onto one line its caret pointed at nothing.

/// `path:LINE:COL: message (in `line`)` for error `e` in `text`, read
/// from `path`. A field missing from the top level says so rather than
/// pointing at the file's first character, and one missing from a table
/// names the line the table starts on.
pub fn describe(path: &str, text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim_end().replace('\n', " ");
    let Some(span) = e.span() else {
        return format!("{path}: {message}");
    };
    let (line, column) = line_and_column(text, span.start);
    if message.starts_with("missing field") {
        return if span.start == 0 {
            format!("{path}: {message} (at the top level of the file)")
        } else {
            format!("{path}:{line}: {message} (in the table that starts on line {line})")
        };
    }
    // The whole line, so that the key is named along with its value.
    let source = text.lines().nth(line - 1).unwrap_or("").trim();
    let source: String = source.chars().take(80).collect();
    if source.is_empty() {
        format!("{path}:{line}:{column}: {message}")
    } else {
        format!("{path}:{line}:{column}: {message} (in `{source}`)")
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct File {
            name: String,
            nodes: u8,
            network: Option<Network>,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Network {
            loss: f64,
        }
        let e = toml::from_str::<File>(text).unwrap_err();
        describe("s.toml", text, &e)
    }

    #[test]
    fn one_line_naming_the_line_column_and_text() {
        let e = error_of("name = \"x\"\nnodes = \"three\"\n");
        assert_eq!(
            e,
            "s.toml:2:9: invalid type: string \"three\", expected u8 (in `nodes = \"three\"`)"
        );
        let e = error_of("name = \"x\"\nnodes = 3\n[network\n");
        assert!(e.starts_with("s.toml:3:9: "), "{e}");
        assert_eq!(e.lines().count(), 1);
    }

    #[test]
    fn a_missing_field_names_its_table_not_the_first_character() {
        let e = error_of("name = \"x\"\n");
        assert_eq!(
            e,
            "s.toml: missing field `nodes` (at the top level of the file)"
        );
        let e = error_of("name = \"x\"\nnodes = 3\n\n[network]\nlos = 0.1\n");
        assert!(e.starts_with("s.toml:4: missing field `loss`"), "{e}");
    }
}
