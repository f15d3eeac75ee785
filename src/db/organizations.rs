//! Organisation rows and the tree queries behind scopes.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{Array, Uuid as SqlUuid};
use uuid::Uuid;

use super::schema::{organizations, provinces};

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = organizations)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct OrganizationRow {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<Uuid>,
    pub province_code: Option<String>,
    pub signer_name: Option<String>,
    pub signer_title: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = provinces)]
pub struct ProvinceRow {
    pub code: String,
    pub short: String,
    pub name: String,
    pub styled: String,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// `root` and every organisation below it.
pub fn subtree_ids(conn: &mut PgConnection, root: Uuid) -> QueryResult<Vec<Uuid>> {
    let rows: Vec<IdRow> = diesel::sql_query(
        "WITH RECURSIVE sub AS (
             SELECT id FROM organizations WHERE id = $1
             UNION ALL
             SELECT o.id FROM organizations o JOIN sub ON o.parent_id = sub.id
         ) SELECT id FROM sub",
    )
    .bind::<SqlUuid, _>(root)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// The organisation tree's version (see the `organization_tree_version` migration): a subquery
/// that rides along with another query, so checking a cached tree costs no round trip of its own.
pub fn tree_version() -> diesel::dsl::AssumeNotNull<
    diesel::dsl::SingleValue<
        diesel::dsl::Select<
            super::schema::organization_tree_version::table,
            super::schema::organization_tree_version::version,
        >,
    >,
> {
    use super::schema::organization_tree_version as v;
    v::table.select(v::version).single_value().assume_not_null()
}

/// The organisation tree (who is below whom) as it was at one version.
#[derive(Debug, Default)]
pub struct Tree {
    pub version: i64,
    children: HashMap<Uuid, Vec<Uuid>>,
}

impl Tree {
    /// The tree from its rows (id, parent, version), as [`super::reads::organization_tree`]
    /// reads them in one snapshot.
    pub fn from_rows(rows: Vec<(Uuid, Option<Uuid>, i64)>) -> Tree {
        let mut tree = Tree {
            version: rows.first().map(|r| r.2).unwrap_or_default(),
            children: HashMap::with_capacity(rows.len()),
        };
        for (id, parent, _) in rows {
            tree.children.entry(id).or_default();
            if let Some(parent) = parent {
                tree.children.entry(parent).or_default().push(id);
            }
        }
        tree
    }

    /// `root` and every organisation below it (empty when `root` is unknown), as
    /// [`subtree_ids`] answers from the database.
    pub fn subtree(&self, root: Uuid) -> Vec<Uuid> {
        if !self.children.contains_key(&root) {
            return Vec::new();
        }
        let mut out = vec![root];
        let mut next = 0;
        while let Some(&id) = out.get(next) {
            next += 1;
            if let Some(children) = self.children.get(&id) {
                out.extend(children.iter().copied());
            }
        }
        out
    }
}

/// The tree held in memory by a process, shared by its workers. Whoever learns (from
/// [`tree_version`], read in the same round trip as their own query) that the tree moved on
/// reloads it; a change made by any process is seen by the very next request everywhere.
#[derive(Debug, Default)]
pub struct TreeCache {
    current: std::sync::RwLock<Option<std::sync::Arc<Tree>>>,
}

impl TreeCache {
    /// The tree at `version`: the cached one when it is that version, else a fresh load (which
    /// may be newer still: a change committed in between).
    pub async fn at(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        version: i64,
    ) -> Result<std::sync::Arc<Tree>, crate::error::AppError> {
        if let Some(tree) = self
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .filter(|t| t.version == version)
        {
            return Ok(tree.clone());
        }
        let rows = super::reads::organization_tree(conn).await?;
        let fresh = std::sync::Arc::new(Tree::from_rows(rows));
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(fresh.clone());
        Ok(fresh)
    }
}

/// Every organisation in tree order (each parent before its children, siblings by code),
/// restricted to `only` when given.
pub fn in_tree_order(
    conn: &mut PgConnection,
    only: Option<&[Uuid]>,
) -> QueryResult<Vec<OrganizationRow>> {
    let rows: Vec<OrganizationRow> = diesel::sql_query(
        "WITH RECURSIVE t AS (
             SELECT o.id, ARRAY[o.code] AS path FROM organizations o WHERE o.parent_id IS NULL
             UNION ALL
             SELECT c.id, t.path || c.code FROM organizations c JOIN t ON c.parent_id = t.id
         )
         SELECT o.id, o.code, o.name, o.kind, o.parent_id, o.province_code, o.signer_name, o.signer_title
         FROM t JOIN organizations o ON o.id = t.id
         WHERE ($1::uuid[] IS NULL OR o.id = ANY($1))
         ORDER BY t.path",
    )
    .bind::<diesel::sql_types::Nullable<Array<SqlUuid>>, _>(only.map(|ids| ids.to_vec()))
    .load(conn)?;
    Ok(rows)
}

pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<OrganizationRow> {
    organizations::table
        .find(id)
        .select(OrganizationRow::as_select())
        .first(conn)
}

pub fn find_by_code(conn: &mut PgConnection, code: &str) -> QueryResult<Option<OrganizationRow>> {
    organizations::table
        .filter(organizations::code.eq(code))
        .select(OrganizationRow::as_select())
        .first(conn)
        .optional()
}

pub fn province(conn: &mut PgConnection, code: &str) -> QueryResult<Option<ProvinceRow>> {
    provinces::table
        .find(code)
        .select(ProvinceRow::as_select())
        .first(conn)
        .optional()
}

/// The chain from `id` up to its root, `id` first.
pub fn ancestors(conn: &mut PgConnection, id: Uuid) -> QueryResult<Vec<OrganizationRow>> {
    diesel::sql_query(
        "WITH RECURSIVE up AS (
             SELECT o.*, 0 AS depth FROM organizations o WHERE o.id = $1
             UNION ALL
             SELECT p.*, up.depth + 1 FROM organizations p JOIN up ON p.id = up.parent_id
         )
         SELECT id, code, name, kind, parent_id, province_code, signer_name, signer_title
         FROM up ORDER BY depth",
    )
    .bind::<SqlUuid, _>(id)
    .load(conn)
}
