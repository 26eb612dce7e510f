//! n8n names for our node types: `pixverse/text-to-video-v4` becomes the node
//! `wiroPixverseTextToVideoV4` in the class `WiroPixverseTextToVideoV4`.

/// The n8n node name (lower camel case, always starting with `wiro`), stable as long as the
/// type id is: n8n saves it in workflows.
pub fn node_name(type_id: &str) -> String {
    let class = class_name(type_id);
    let mut chars = class.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => class,
    }
}

/// The JavaScript class (and file) name of the node: upper camel case.
pub fn class_name(type_id: &str) -> String {
    let words: Vec<&str> = type_id
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .collect();
    let mut name = String::new();
    if words.first() != Some(&"wiro") {
        name.push_str("Wiro");
    }
    for word in words {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            name.push(first.to_ascii_uppercase());
            name.push_str(chars.as_str());
        }
    }
    name
}

/// A port name as people read it: `timeout_seconds` → `Timeout seconds`,
/// `negativePrompt` → `Negative prompt`.
pub fn display_name(port: &str) -> String {
    let mut words = String::new();
    let mut previous_lower = false;
    for c in port.chars() {
        if c == '_' || c == '-' {
            words.push(' ');
            previous_lower = false;
        } else if c.is_ascii_uppercase() && previous_lower {
            words.push(' ');
            words.push(c.to_ascii_lowercase());
            previous_lower = false;
        } else {
            words.push(c);
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        }
    }
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => words,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_ids_become_camel_case_names_under_wiro() {
        assert_eq!(
            class_name("pixverse/text-to-video-v4"),
            "WiroPixverseTextToVideoV4"
        );
        assert_eq!(class_name("wiro/task.wait"), "WiroTaskWait");
        assert_eq!(node_name("wiro/output.download"), "wiroOutputDownload");
    }

    #[test]
    fn ports_read_as_words() {
        assert_eq!(display_name("timeout_seconds"), "Timeout seconds");
        assert_eq!(display_name("negativePrompt"), "Negative prompt");
        assert_eq!(display_name("task"), "Task");
    }
}
