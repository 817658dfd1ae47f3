//! Item fields and creators into a `PaperRecord`.

use std::collections::BTreeMap;

use hypatia_core::PaperRecord;
use sqlx::{Row, SqliteConnection};

/// Every item's fields: item id → field name → value.
pub(crate) async fn fields(
    connection: &mut SqliteConnection,
) -> Result<BTreeMap<i64, BTreeMap<String, String>>, sqlx::Error> {
    // Zotero 5+ names fields in `fieldsCombined` (its schema's fields and custom ones); older
    // databases have only `fields`.
    let combined: Option<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE name = 'fieldsCombined'")
        .fetch_optional(&mut *connection)
        .await?;
    let query = if combined.is_some() {
        "SELECT d.itemID, f.fieldName, v.value FROM itemData d
         JOIN fieldsCombined f ON f.fieldID = d.fieldID JOIN itemDataValues v ON v.valueID = d.valueID"
    } else {
        "SELECT d.itemID, f.fieldName, v.value FROM itemData d
         JOIN fields f ON f.fieldID = d.fieldID JOIN itemDataValues v ON v.valueID = d.valueID"
    };
    let rows = sqlx::query(query).fetch_all(&mut *connection).await?;
    let mut fields: BTreeMap<i64, BTreeMap<String, String>> = BTreeMap::new();
    for row in rows {
        // Values are typed loosely in Zotero's database: a number is stored as a number.
        let value: String = match row.try_get::<String, _>("value") {
            Ok(text) => text,
            Err(_) => row
                .try_get::<i64, _>("value")
                .map(|n| n.to_string())
                .unwrap_or_default(),
        };
        fields
            .entry(row.try_get("itemID")?)
            .or_default()
            .insert(row.try_get("fieldName")?, value);
    }
    Ok(fields)
}

/// Every item's authors in order (editors and others only when it has no author).
pub(crate) async fn authors(connection: &mut SqliteConnection) -> Result<BTreeMap<i64, Vec<String>>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT ic.itemID, c.firstName, c.lastName, c.fieldMode, ct.creatorType FROM itemCreators ic
         JOIN creators c ON c.creatorID = ic.creatorID JOIN creatorTypes ct ON ct.creatorTypeID = ic.creatorTypeID
         ORDER BY ic.itemID, ic.orderIndex",
    )
    .fetch_all(&mut *connection)
    .await?;
    let mut by_item: BTreeMap<i64, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for row in rows {
        let first: Option<String> = row.try_get("firstName")?;
        let last: Option<String> = row.try_get("lastName")?;
        let name = match (first.filter(|f| !f.trim().is_empty()), last) {
            (Some(first), Some(last)) => format!("{} {}", first.trim(), last.trim()),
            (None, Some(last)) => last.trim().to_owned(),
            (Some(first), None) => first.trim().to_owned(),
            (None, None) => continue,
        };
        let kind: String = row.try_get("creatorType")?;
        let entry = by_item.entry(row.try_get("itemID")?).or_default();
        if kind == "author" { &mut entry.0 } else { &mut entry.1 }.push(name);
    }
    Ok(by_item
        .into_iter()
        .map(|(item, (authors, others))| (item, if authors.is_empty() { others } else { authors }))
        .collect())
}

/// Where an item's venue is, by item type.
const VENUE_FIELDS: [&str; 6] = [
    "publicationTitle",
    "proceedingsTitle",
    "conferenceName",
    "bookTitle",
    "repository",
    "university",
];

pub(crate) fn record(fields: &BTreeMap<String, String>, authors: Vec<String>) -> PaperRecord {
    let get = |name: &str| fields.get(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let extra = get("extra").unwrap_or_default();
    let extra_value = |label: &str| {
        extra.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(label).then(|| value.trim().to_owned())
        })
    };
    PaperRecord {
        title: get("title").unwrap_or_default(),
        abstract_text: get("abstractNote"),
        authors,
        year: get("date").and_then(|date| year_of(&date)),
        venue: VENUE_FIELDS.iter().find_map(|name| get(name)),
        doi: get("DOI").or_else(|| extra_value("DOI")),
        // Zotero 7 preprints: `archiveID: arXiv:2304.02623`; older items note it in Extra.
        arxiv_id: get("archiveID")
            .filter(|id| id.to_lowercase().starts_with("arxiv:"))
            .or_else(|| extra_value("arXiv")),
        url: get("url"),
    }
}

/// Zotero stores dates as `2023-04-05 April 5, 2023` (or `2023-00-00 2023`): the year leads.
fn year_of(date: &str) -> Option<i32> {
    date.split(|c: char| !c.is_ascii_digit())
        .filter(|part| part.len() == 4)
        .filter_map(|part| part.parse().ok())
        .find(|year| (1000..=2999).contains(year))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_become_a_record() {
        let fields: BTreeMap<String, String> = [
            ("title", "Beyond Summarization"),
            ("date", "2023-04-05 April 5, 2023"),
            ("repository", "arXiv"),
            ("archiveID", "arXiv:2304.02623"),
            ("extra", "Citation Key: shen2023\nDOI: 10.48550/arXiv.2304.02623"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let record = record(&fields, vec!["Zejiang Shen".into()]);
        assert_eq!(record.title, "Beyond Summarization");
        assert_eq!(record.year, Some(2023));
        assert_eq!(record.venue.as_deref(), Some("arXiv"));
        assert_eq!(record.arxiv_id.as_deref(), Some("arXiv:2304.02623"));
        assert_eq!(record.doi.as_deref(), Some("10.48550/arXiv.2304.02623"));
        assert_eq!(year_of("2019-00-00 2019"), Some(2019));
    }
}
