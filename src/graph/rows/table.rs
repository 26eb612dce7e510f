//! A table of inputs as people export it: CSV (a BOM, quoted commas, quotes and newlines),
//! TSV, or JSON Lines; each column named `NODE.INPUT`, each row remembered by its line in
//! the file so every message can name it.

use std::path::Path;

use serde_json::{Map, Value};

/// One cell: text from CSV/TSV (typed later, by the input's schema), or a JSON value from
/// JSON Lines. An empty cell is `None`: the flow keeps its own value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text, as written.
    Text(String),
    /// A JSON value.
    Json(Value),
}

/// One row: the line it starts on in the file, and a cell per column.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Its line in the file (the header is line 1 of a CSV).
    pub line: usize,
    /// A cell per column, `None` when empty.
    pub cells: Vec<Option<Cell>>,
}

/// A table of inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The column names, `NODE.INPUT`.
    pub columns: Vec<String>,
    /// The rows, in file order.
    pub rows: Vec<Row>,
}

impl Table {
    /// Reads `path`: `.jsonl`/`.ndjson`/`.json` as JSON Lines, `.tsv`/`.tab` as tab-separated,
    /// anything else as CSV. The error names the file, the line and what is wrong; a table
    /// with no rows is refused (there is nothing to run).
    pub fn read(path: &Path) -> Result<Self, String> {
        let bytes = std::fs::read(path)
            .map_err(|error| format!("cannot read the table {}: {error}", path.display()))?;
        let text = String::from_utf8(bytes).map_err(|error| {
            let (line, column) = place_of_byte(error.as_bytes(), error.utf8_error().valid_up_to());
            format!(
                "the table {} is not UTF-8 (line {line}, byte {column} of the line is not): save it as UTF-8 (\"CSV UTF-8\" in spreadsheets)",
                path.display(),
            )
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let table = match extension.as_str() {
            "jsonl" | "ndjson" | "json" => json_lines(text),
            "tsv" | "tab" => delimited(text, '\t'),
            _ => delimited(text, ','),
        };
        let table = table.and_then(|table| match table.rows.is_empty() {
            true => Err("it has no rows: there is nothing to run".into()),
            false => Ok(table),
        });
        table.map_err(|problem| format!("the table {}: {problem}", path.display()))
    }
}

/// The line (from 1) of byte `offset` of `bytes`, and the byte's place in that line (from 1).
fn place_of_byte(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset];
    let line = before.iter().filter(|&&byte| byte == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|&byte| byte == b'\n')
        .map_or(0, |at| at + 1);
    (line, offset - start + 1)
}

/// CSV as RFC 4180 writes it (and spreadsheets export it): fields split by `separator`,
/// quoted fields may hold separators, newlines and doubled quotes.
fn delimited(text: &str, separator: char) -> Result<Table, String> {
    let records = records(text, separator)?;
    let mut records = records.into_iter();
    let Some((_, header)) = records.next() else {
        return Err("it is empty: the first line names the columns (NODE.INPUT)".into());
    };
    let columns: Vec<String> = header
        .into_iter()
        .map(|name| name.trim().to_owned())
        .collect();
    for (second, name) in columns.iter().enumerate() {
        if let Some(first) = columns[..second].iter().position(|earlier| earlier == name) {
            return Err(format!(
                "column {name} appears twice (columns {} and {}): say each input once",
                first + 1,
                second + 1
            ));
        }
    }
    if let [only] = columns.as_slice() {
        if separator != ';' && only.contains(';') {
            return Err(format!(
                "the header is one column, {only:?}: is the table separated by semicolons (as some spreadsheets save CSV)? Save it with commas, or as TSV"
            ));
        }
    }
    let mut rows = Vec::new();
    let mut ragged = Vec::new();
    for (line, fields) in records {
        if fields.len() == 1 && fields[0].is_empty() {
            continue; // a blank line
        }
        if fields.len() != columns.len() {
            ragged.push(format!("row {line} has {}", counted(fields.len(), "cell")));
            continue;
        }
        let cells = fields
            .into_iter()
            .map(|field| (!field.is_empty()).then_some(Cell::Text(field)))
            .collect();
        rows.push(Row { line, cells });
    }
    if !ragged.is_empty() {
        // Every ragged row (the first few by name): one fix-and-retry, not one per row.
        return Err(format!(
            "{}; the header has {}",
            first_few(&ragged, "row"),
            counted(columns.len(), "column")
        ));
    }
    Ok(Table { columns, rows })
}

/// `1 cell`, `2 cells`: a count and its noun.
pub(crate) fn counted(count: usize, noun: &str) -> String {
    match count {
        1 => format!("1 {noun}"),
        _ => format!("{count} {noun}s"),
    }
}

/// The first five of `items`, joined by commas, and how many more `noun`s there are:
/// `a, b, c, d, e (and 3 more rows)`. A long list in a message, kept to a line.
pub(crate) fn first_few(items: &[String], noun: &str) -> String {
    const NAMED: usize = 5;
    let named = items[..items.len().min(NAMED)].join(", ");
    match items.len().saturating_sub(NAMED) {
        0 => named,
        more => format!("{named} (and {})", counted(more, &format!("more {noun}"))),
    }
}

/// The records of a delimited text, each with the line it starts on.
fn records(text: &str, separator: char) -> Result<Vec<(usize, Vec<String>)>, String> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let (mut line, mut start) = (1, 1);
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            (false, '"') if field.is_empty() => quoted = true,
            (false, c) if c == separator => fields.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                fields.push(std::mem::take(&mut field));
                records.push((start, std::mem::take(&mut fields)));
                line += 1;
                start = line;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(format!("a quote opened on line {start} is never closed"));
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        records.push((start, fields));
    }
    Ok(records)
}

/// One JSON object per line, keys `NODE.INPUT`; the columns are every key seen, in order.
fn json_lines(text: &str) -> Result<Table, String> {
    if text.trim_start().starts_with('[') {
        return Err("it holds a JSON array: write one object per line (JSON Lines), e.g. with `jq -c '.[]' TABLE.json > TABLE.jsonl`".into());
    }
    let mut columns: Vec<String> = Vec::new();
    let mut objects: Vec<(usize, Map<String, Value>)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let object = json_object(line).map_err(|problem| format!("line {}{problem}", index + 1))?;
        for key in object.keys() {
            if !columns.contains(key) {
                columns.push(key.clone());
            }
        }
        objects.push((index + 1, object));
    }
    let rows = objects
        .into_iter()
        .map(|(line, object)| Row {
            line,
            cells: columns
                .iter()
                .map(|column| match object.get(column) {
                    None | Some(Value::Null) => None,
                    Some(value) => Some(Cell::Json(value.clone())),
                })
                .collect(),
        })
        .collect();
    Ok(Table { columns, rows })
}

/// One line of JSON Lines as an object, refusing a key written twice (JSON readers keep the
/// last without a word: a 360p row would run at 1080p). The error goes after the line's
/// number: `, column 12: not a JSON object (expected `:`)`.
fn json_object(line: &str) -> Result<Map<String, Value>, String> {
    let entries: Entries = serde_json::from_str(line).map_err(|error| {
        let text = error.to_string();
        let why = text
            .strip_suffix(&format!(
                " at line {} column {}",
                error.line(),
                error.column()
            ))
            .unwrap_or(&text);
        format!(", column {}: not a JSON object ({why})", error.column())
    })?;
    let mut object = Map::new();
    for (key, value) in entries.0 {
        if object.contains_key(&key) {
            return Err(format!(": key {key:?} appears twice: say each input once"));
        }
        object.insert(key, value);
    }
    Ok(object)
}

/// A JSON object's entries in order, a key written twice kept twice.
struct Entries(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of NODE.INPUT keys")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Entries, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_as_spreadsheets_export_it() {
        let text = "\u{feff}video.prompt,video.quality\r\n\"a fox, running\",720p\r\n\"she said \"\"hi\"\"\nand left\",\r\nÇa va — naïve,360p\r\n";
        let table = delimited(text.trim_start_matches('\u{feff}'), ',').unwrap();
        assert_eq!(table.columns, ["video.prompt", "video.quality"]);
        assert_eq!(table.rows.len(), 3);
        assert_eq!(
            table.rows[0].cells[0],
            Some(Cell::Text("a fox, running".into()))
        );
        assert_eq!(
            table.rows[1].cells[0],
            Some(Cell::Text("she said \"hi\"\nand left".into()))
        );
        assert_eq!(
            table.rows[1].cells[1], None,
            "an empty cell keeps the flow's value"
        );
        assert_eq!((table.rows[1].line, table.rows[2].line), (3, 5));
        assert_eq!(
            table.rows[2].cells[0],
            Some(Cell::Text("Ça va — naïve".into()))
        );
    }

    #[test]
    fn ragged_rows_and_open_quotes_are_named() {
        let ragged = delimited("a.b,c.d\n1,2\n3\n4,5,6\n", ',').unwrap_err();
        assert_eq!(
            ragged,
            "row 3 has 1 cell, row 4 has 3 cells; the header has 2 columns"
        );
        let many: String = (0..8).map(|_| "1\n").collect();
        let many = delimited(&format!("a.b,c.d\n{many}"), ',').unwrap_err();
        assert!(
            many.contains("row 6 has 1 cell (and 3 more rows);"),
            "{many}"
        );
        let open = delimited("a.b\n\"never closed\n", ',').unwrap_err();
        assert!(open.contains("line 2"), "{open}");
    }

    #[test]
    fn a_column_named_twice_or_a_semicolon_table_is_refused_saying_so() {
        let twice = delimited("v.quality,v.seed,v.quality\n360p,1,1080p\n", ',').unwrap_err();
        assert!(
            twice.contains("column v.quality appears twice (columns 1 and 3)"),
            "{twice}"
        );
        let semicolons = delimited("v.prompt;v.quality\nfox;360p\n", ',').unwrap_err();
        assert!(
            semicolons.contains("separated by semicolons"),
            "{semicolons}"
        );
    }

    #[test]
    fn json_lines_keep_their_types() {
        let table = json_lines("{\"v.n\": 3, \"v.p\": \"x\"}\n\n{\"v.p\": null}\n").unwrap();
        assert_eq!(table.columns, ["v.n", "v.p"]);
        assert_eq!(table.rows[0].cells[0], Some(Cell::Json(3.into())));
        assert_eq!(table.rows[1].cells, [None, None]);
        assert_eq!(table.rows[1].line, 3);
    }

    #[test]
    fn a_json_lines_mistake_names_its_line_and_column_once() {
        let broken = json_lines("{\"v.n\": 3}\n{\"v.n\" 4}\n").unwrap_err();
        assert_eq!(broken, "line 2, column 8: not a JSON object (expected `:`)");
        let twice = json_lines("{\"v.q\": \"360p\", \"v.q\": \"1080p\"}\n").unwrap_err();
        assert!(
            twice.contains("line 1: key \"v.q\" appears twice"),
            "{twice}"
        );
        let array = json_lines("[{\"v.n\": 3}]").unwrap_err();
        assert!(array.contains("holds a JSON array"), "{array}");
        let not_object = json_lines("3\n").unwrap_err();
        assert!(
            not_object.starts_with("line 1, column 1: not a JSON object"),
            "{not_object}"
        );
    }

    #[test]
    fn a_file_names_where_it_stops_being_utf8_or_that_it_has_no_rows() {
        let dir = std::env::temp_dir().join(format!("wiro-table-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let latin1 = dir.join("latin1.csv");
        std::fs::write(&latin1, b"v.prompt\nfox\ncaf\xe9\n").unwrap();
        let error = Table::read(&latin1).unwrap_err();
        assert!(error.contains("line 3, byte 4 of the line"), "{error}");
        let header_only = dir.join("empty.csv");
        std::fs::write(&header_only, "v.prompt\n").unwrap();
        let error = Table::read(&header_only).unwrap_err();
        assert!(error.contains("no rows"), "{error}");
        let lines = dir.join("rows.json");
        std::fs::write(&lines, "{\"v.prompt\": \"fox\"}\n").unwrap();
        assert_eq!(
            Table::read(&lines).unwrap().rows.len(),
            1,
            "a .json of JSON Lines"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
