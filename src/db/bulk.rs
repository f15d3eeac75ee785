//! Bulk writes (`cascade seed-scale`, the reports' summaries rebuilt): a table's secondary
//! structures — its foreign keys and its non-unique indexes — set aside while many rows are
//! written, then put back from their own definitions, checked and built once over the whole
//! table, in the caller's transaction. Primary keys, unique constraints and indexes, exclusion
//! and check constraints stay in place throughout: every row is still checked against them as it
//! is written. Foreign keys added back are validated over every row, so a bad reference still
//! fails the transaction; only the moment it is noticed changes.

use diesel::prelude::*;
use diesel::sql_types::{Array, Text};

/// Memory for the sorts and hash tables of a bulk transaction (`SET LOCAL`: the transaction's
/// own), so that aggregates over millions of rows and index builds stay out of temporary files.
pub fn roomy_memory(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query("SET LOCAL work_mem = '256MB'").execute(conn)?;
    diesel::sql_query("SET LOCAL maintenance_work_mem = '1GB'").execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Definition {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    definition: String,
}

/// What [`set_aside`] removed, to be put back by [`put_back`].
#[must_use = "the structures set aside must be put back in the same transaction"]
pub struct SetAside {
    indexes: Vec<Definition>,
    foreign_keys: Vec<Definition>,
}

/// Drops the foreign keys and the non-unique indexes (those backing no constraint) of `tables`,
/// remembering their definitions. Must run in a transaction that [`put_back`] ends in.
pub fn set_aside(conn: &mut PgConnection, tables: &[&str]) -> QueryResult<SetAside> {
    let tables: Vec<String> = tables.iter().map(|t| t.to_string()).collect();
    let indexes: Vec<Definition> = diesel::sql_query(
        "SELECT i.indrelid::regclass::text AS table_name,
                i.indexrelid::regclass::text AS name,
                pg_get_indexdef(i.indexrelid) AS definition
         FROM pg_index i
         WHERE i.indrelid = ANY($1::text[]::regclass[])
           AND NOT i.indisunique AND NOT i.indisprimary AND NOT i.indisexclusion
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                           WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
         ORDER BY 1, 2",
    )
    .bind::<Array<Text>, _>(&tables)
    .load(conn)?;
    let foreign_keys: Vec<Definition> = diesel::sql_query(
        "SELECT c.conrelid::regclass::text AS table_name, quote_ident(c.conname) AS name,
                pg_get_constraintdef(c.oid) AS definition
         FROM pg_constraint c
         WHERE c.contype = 'f' AND c.conrelid = ANY($1::text[]::regclass[])
         ORDER BY 1, 2",
    )
    .bind::<Array<Text>, _>(&tables)
    .load(conn)?;
    for fk in &foreign_keys {
        diesel::sql_query(format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            fk.table_name, fk.name
        ))
        .execute(conn)?;
    }
    if !indexes.is_empty() {
        let names: Vec<&str> = indexes.iter().map(|i| i.name.as_str()).collect();
        diesel::sql_query(format!("DROP INDEX {}", names.join(", "))).execute(conn)?;
    }
    Ok(SetAside {
        indexes,
        foreign_keys,
    })
}

/// Builds the indexes again and adds the foreign keys back, each validated over the whole table.
pub fn put_back(conn: &mut PgConnection, set_aside: SetAside) -> QueryResult<()> {
    for index in &set_aside.indexes {
        diesel::sql_query(&index.definition).execute(conn)?;
    }
    for fk in &set_aside.foreign_keys {
        diesel::sql_query(format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {}",
            fk.table_name, fk.name, fk.definition
        ))
        .execute(conn)?;
    }
    Ok(())
}
