from tortoise import migrations
from tortoise.migrations import operations as ops
from backend.kernel.clock import now
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0024_oidc_refresh_tokens')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BackchannelLogout',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('client', fields.ForeignKeyField('models.OidcClient', source_field='client_id', db_constraint=True, to_field='id', related_name='backchannel_logouts', on_delete=OnDelete.CASCADE)),
                ('user_id', fields.BigIntField()),
                ('sid', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('given_up_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_status', fields.IntField(null=True)),
                ('last_error', fields.CharField(default='', max_length=200)),
            ],
            options={'table': 'oidc_backchannel_logouts', 'app': 'models', 'indexes': [Index(fields=['client_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'A logout token owed to an application for a session that ended, sent by whichever'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SessionClient',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('session', fields.ForeignKeyField('models.Session', source_field='session_id', db_constraint=True, to_field='id', related_name='oidc_clients', on_delete=OnDelete.CASCADE)),
                ('client', fields.ForeignKeyField('models.OidcClient', source_field='client_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('sid', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oidc_session_clients', 'app': 'models', 'unique_together': (('session', 'client'),), 'indexes': [Index(fields=['client_id'])], 'pk_attr': 'id', 'table_description': 'An application that signed in through a Latchkey session: when the session ends, it'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='AuthorizationCode',
            name='session_id',
            field=fields.BigIntField(null=True),
        ),
        ops.AddField(
            model_name='AuthorizationCode',
            name='sid',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.AddField(
            model_name='OidcRefreshToken',
            name='sid',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
    ]
