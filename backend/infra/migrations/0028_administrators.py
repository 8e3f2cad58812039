from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from backend.kernel.clock import now
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
import unicodedata

BATCH = 500
_SELECT = (
    "SELECT id, first_name, last_name FROM users WHERE id > $1"
    " AND (first_name <> '' OR last_name <> '') ORDER BY id LIMIT $2"
)
_UPDATE = "UPDATE users SET first_name_key = $1, last_name_key = $2 WHERE id = $3"
# Administrators' search compares each folded column to a range of keys (a prefix). In
# PostgreSQL's "C" collation, byte order, those are exactly the keys with that prefix,
# whatever the database's own collation; SQLite compares bytes already, and the unique
# indexes of username_key and email_key serve it as they are.
_POSTGRES_INDEXES = [
    f'CREATE INDEX IF NOT EXISTS "idx_users_search_{column}" ON "users" (("{column}" COLLATE "C"))'
    for column in ("username_key", "email_key", "first_name_key", "last_name_key")
]
_SQLITE_INDEXES = [
    f'CREATE INDEX IF NOT EXISTS "idx_users_search_{column}" ON "users" ("{column}")'
    for column in ("first_name_key", "last_name_key")
]


def _fold(name):
    """As backend.accounts.service.name_key folded names when this was written."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join("\ufffd" if char == "\x00" else char for char in folded)[:100]


async def fold_names_and_index_them(apps, schema_editor):
    """The existing accounts' names get their folded keys, a batch at a time; then the
    search's indexes, in the database's own way."""
    connection = schema_editor.client
    sqlite = connection.capabilities.dialect == "sqlite"
    last = 0
    while True:
        _count, rows = await connection.execute_query(_dialect(_SELECT, sqlite), [last, BATCH])
        if not rows:
            break
        last = rows[-1]["id"]
        for row in rows:
            keys = [_fold(row["first_name"]), _fold(row["last_name"]), row["id"]]
            await connection.execute_query(_dialect(_UPDATE, sqlite), keys)
    for statement in _SQLITE_INDEXES if sqlite else _POSTGRES_INDEXES:
        await connection.execute_script(statement)


def _dialect(sql, sqlite):
    return sql.replace("$", "?") if sqlite else sql

class Migration(migrations.Migration):
    dependencies = [('models', '0027_account_type_and_token_sid')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OperatorAction',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('administrator', fields.ForeignKeyField('models.User', source_field='administrator_id', null=True, db_constraint=True, to_field='id', related_name='operator_actions', on_delete=OnDelete.SET_NULL)),
                ('administrator_name', fields.CharField(default='', max_length=64)),
                ('action', fields.CharField(max_length=64)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='operator_actions_on', on_delete=OnDelete.SET_NULL)),
                ('username', fields.CharField(default='', max_length=64)),
                ('ip_address', fields.CharField(default='', max_length=45)),
                ('details', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'operator_log', 'app': 'models', 'indexes': [Index(fields=['administrator_id']), Index(fields=['user_id'])], 'pk_attr': 'id', 'table_description': "The operator log: what an administrator (or an operator's command) did, to whom, when."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='User',
            name='disabled_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='User',
            name='disabled_reason',
            field=fields.CharField(default='', db_default='', max_length=500),
        ),
        ops.AddField(
            model_name='User',
            name='first_name_key',
            field=fields.CharField(default='', db_default='', max_length=100),
        ),
        ops.AddField(
            model_name='User',
            name='last_name_key',
            field=fields.CharField(default='', db_default='', max_length=100),
        ),
        ops.AddIndex(
            model_name='User',
            index=Index(fields=['account_type']),
        ),
        ops.AddIndex(
            model_name='User',
            index=Index(fields=['disabled_at']),
        ),
        ops.RunPython(fold_names_and_index_them, reverse_code=ops.RunPython.noop),
    ]
