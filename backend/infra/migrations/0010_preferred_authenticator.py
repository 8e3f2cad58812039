from tortoise import fields, migrations
from tortoise.migrations import operations as ops


async def prefer_the_preferred_method(apps, schema_editor):
    """The factor of the kind two_factor.method named (the oldest of it) becomes preferred."""
    connection = schema_editor.client
    await connection.execute_script(
        "UPDATE authenticators SET preferred = TRUE WHERE id IN ("
        "SELECT MIN(a.id) FROM authenticators a JOIN two_factor t "
        "ON t.user_id = a.user_id AND t.method = a.kind GROUP BY a.user_id);"
    )


class Migration(migrations.Migration):
    dependencies = [('models', '0009_session_reauthentication')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Authenticator',
            name='preferred',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.RunPython(prefer_the_preferred_method),
        ops.RemoveField(model_name='TwoFactor', name='method'),
    ]
