//! Bulk inserts for seeding: many rows in one multi-row `INSERT`.

use sqlx::{AnyConnection, AssertSqlSafe};

use crate::store::connection::Store;
use crate::store::values::StoreError;

/// One value of a bulk-inserted row.
#[derive(Debug, Clone)]
pub(crate) enum Cell {
    /// Text or NULL.
    Text(Option<String>),
    /// A BIGINT.
    Integer(i64),
}

impl Store {
    /// Insert rows in one multi-row statement: `rows` of `columns` values each.
    pub(crate) async fn insert_rows(
        &self,
        connection: &mut AnyConnection,
        table_and_columns: &str,
        columns: usize,
        rows: &[Vec<Cell>],
    ) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut sql = format!("INSERT INTO {table_and_columns} VALUES ");
        let mut number = 0usize;
        for (index, _) in rows.iter().enumerate() {
            if index > 0 {
                sql.push(',');
            }
            sql.push('(');
            for column in 0..columns {
                if column > 0 {
                    sql.push(',');
                }
                number += 1;
                sql.push('$');
                sql.push_str(&number.to_string());
            }
            sql.push(')');
        }
        // Safe: the SQL is built only from our own table and column names and placeholders.
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for row in rows {
            for value in row {
                query = match value {
                    Cell::Text(text) => query.bind(text.clone()),
                    Cell::Integer(number) => query.bind(*number),
                };
            }
        }
        query.execute(&mut *connection).await?;
        Ok(())
    }
}
