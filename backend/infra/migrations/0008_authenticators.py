from tortoise import migrations
from tortoise.migrations import operations as ops
from backend.kernel.clock import now
from tortoise.fields.base import OnDelete
from tortoise import fields


async def carry_over_two_factor_rows(apps, schema_editor):
    """Each enabled TOTP, email or SMS method becomes an authenticator, with recovery codes.

    Plain SQL on both databases: the sealed TOTP secret and the last time step are copied
    as they are, so existing apps and codes keep working.
    """
    connection = schema_editor.client
    await connection.execute_script(
        "INSERT INTO authenticators (user_id, kind, name, secret, created_at, last_timecode) "
        "SELECT user_id, method, CASE method WHEN 'totp' THEN 'Authenticator app' "
        "WHEN 'email' THEN 'Code by email' ELSE 'Code by SMS' END, "
        "CASE method WHEN 'totp' THEN totp_secret ELSE NULL END, enabled_at, last_timecode "
        "FROM two_factor;"
        "INSERT INTO authenticators (user_id, kind, name, created_at, last_timecode) "
        "SELECT user_id, 'recovery_code', '', enabled_at, 0 FROM two_factor;"
    )


class Migration(migrations.Migration):
    dependencies = [('models', '0007_throttle_reservations')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Authenticator',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='authenticators', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=16)),
                ('name', fields.CharField(default='', max_length=64)),
                ('secret', fields.CharField(null=True, max_length=255)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_timecode', fields.BigIntField(default=0)),
            ],
            options={'table': 'authenticators', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One second factor of a user: an authenticator app, email or SMS codes, recovery codes.'},
            bases=['Model'],
        ),
        ops.RunPython(carry_over_two_factor_rows),
        ops.RemoveField(model_name='TwoFactor', name='totp_secret'),
        ops.RemoveField(model_name='TwoFactor', name='last_timecode'),
        ops.AlterField(model_name='TwoFactor', name='method', field=fields.CharField(max_length=16)),
        ops.AlterModelOptions(
            name='TwoFactor',
            options={'table': 'two_factor', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The account-wide settings; a row exists while two-factor authentication is on.'},
        ),
    ]
