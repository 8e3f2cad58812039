from tortoise import migrations
from tortoise.migrations import operations as ops
from backend.kernel.clock import now
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0023_oidc_clients')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OidcRefreshToken',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('family', fields.CharField(db_index=True, max_length=32)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('client', fields.ForeignKeyField('models.OidcClient', source_field='client_id', db_constraint=True, to_field='id', related_name='refresh_tokens', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='oidc_refresh_tokens', on_delete=OnDelete.CASCADE)),
                ('scopes', fields.CharField(max_length=1000)),
                ('auth_time', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('second_factor', fields.CharField(null=True, max_length=16)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oidc_refresh_tokens', 'app': 'models', 'indexes': [Index(fields=['client_id']), Index(fields=['user_id'])], 'pk_attr': 'id', 'table_description': "An application's `offline_access` token: only its SHA-256 is kept. Each use gives a"},
            bases=['Model'],
        ),
    ]
