from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from backend.kernel.client_info import Browser

TABLES = ("security_events", "sessions", "trusted_devices")
BATCH = 500
_SELECT = (
    "SELECT id, user_agent FROM {table} WHERE id > $1 AND user_agent <> '' ORDER BY id LIMIT $2"
)
_UPDATE = "UPDATE {table} SET browser_name = $1, system_name = $2 WHERE id IN ({marks})"


async def name_browsers_of_existing_rows(apps, schema_editor):
    """Rows written before the browser was parsed on writing get their names now, a batch
    at a time: each distinct user agent is parsed once, and one UPDATE per distinct name
    in a batch sets them, so the cost grows with the rows, never rows times agents."""
    connection = schema_editor.client
    sqlite = connection.capabilities.dialect == "sqlite"
    parsed: dict[str, Browser] = {}
    for table in TABLES:
        last = 0
        while True:
            select = _SELECT.replace("{table}", table)
            _count, rows = await connection.execute_query(_dialect(select, sqlite), [last, BATCH])
            if not rows:
                break
            last = rows[-1]["id"]
            ids_by_browser: dict[Browser, list[int]] = {}
            for row in rows:
                agent = row["user_agent"]
                if agent not in parsed:
                    parsed[agent] = Browser.of(agent)
                ids_by_browser.setdefault(parsed[agent], []).append(row["id"])
            for browser, ids in ids_by_browser.items():
                marks = ", ".join(f"${number}" for number in range(3, len(ids) + 3))
                update = _UPDATE.replace("{table}", table).replace("{marks}", marks)
                await connection.execute_query(
                    _dialect(update, sqlite), [browser.name, browser.system, *ids]
                )
            if len(parsed) > 10_000:
                parsed.clear()  # many different agents: memory stays bounded


def _dialect(sql: str, sqlite: bool) -> str:
    return sql.replace("$", "?") if sqlite else sql  # ?1, ?2: SQLite's numbered parameters


class Migration(migrations.Migration):
    dependencies = [('models', '0016_foreign_key_indexes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='SecurityEvent',
            name='browser_name',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.AddField(
            model_name='SecurityEvent',
            name='system_name',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.AddField(
            model_name='Session',
            name='browser_name',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.AddField(
            model_name='Session',
            name='system_name',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.AddField(
            model_name='TrustedDevice',
            name='browser_name',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.AddField(
            model_name='TrustedDevice',
            name='system_name',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.RunPython(name_browsers_of_existing_rows, reverse_code=ops.RunPython.noop),
    ]
