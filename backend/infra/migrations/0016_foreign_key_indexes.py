from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index


async def one_two_factor_row_per_user(apps, schema_editor):
    """two_factor.user_id is unique again on SQLite, where rebuilding the table in 0008
    dropped its UNIQUE (PostgreSQL kept its constraint, two_factor_user_id_key).

    Meanwhile a user may have got a second row (two requests turning two-factor on at
    once). The row with the highest id is the newest one written, whose policy the user
    chose last: it is kept and the older ones go, or the unique index could not be built.
    """
    connection = schema_editor.client
    if connection.capabilities.dialect != "sqlite":
        return
    _count, indexes = await connection.execute_query("PRAGMA index_list('two_factor')")
    for index in indexes:
        if not index["unique"]:
            continue
        _count, columns = await connection.execute_query(f"PRAGMA index_info('{index['name']}')")
        if [column["name"] for column in columns] == ["user_id"]:
            return
    await connection.execute_script(
        "DELETE FROM two_factor WHERE id NOT IN "
        "(SELECT MAX(id) FROM two_factor GROUP BY user_id);"
        'CREATE UNIQUE INDEX "two_factor_user_id_key" ON "two_factor" ("user_id");'
    )


class Migration(migrations.Migration):
    dependencies = [('models', '0015_hot_path_indexes')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='AccessToken',
            index=Index(fields=['api_credential_id']),
        ),
        ops.AddIndex(
            model_name='Authenticator',
            index=Index(fields=['user_id', 'kind']),
        ),
        ops.AddIndex(
            model_name='PasskeyChallenge',
            index=Index(fields=['user_id']),
        ),
        ops.AddIndex(
            model_name='PasskeyCredential',
            index=Index(fields=['user_id']),
        ),
        ops.AddIndex(
            model_name='PasswordReset',
            index=Index(fields=['user_id']),
        ),
        ops.AddIndex(
            model_name='SecureAccountLink',
            index=Index(fields=['user_id']),
        ),
        ops.AddIndex(
            model_name='SignInChallenge',
            index=Index(fields=['user_id']),
        ),
        ops.AddIndex(
            model_name='TrustedDevice',
            index=Index(fields=['user_id', 'expires_at']),
        ),
        # The members of a group, and deleting a group: the through table of a many-to-many
        # field has no model of its own to declare an index on, so it is plain SQL here.
        # Its unique index starts with users_id, which serves the groups of a user.
        ops.RunSQL(
            'CREATE INDEX IF NOT EXISTS "idx_memberships_group_id" ON "memberships" ("group_id")',
            reverse_sql='DROP INDEX IF EXISTS "idx_memberships_group_id"',
        ),
        ops.RunPython(one_two_factor_row_per_user, reverse_code=ops.RunPython.noop),
    ]
