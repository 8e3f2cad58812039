from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from backend.kernel.clock import now
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0022_oidc_signing_keys')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OidcClient',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('client_id', fields.CharField(unique=True, max_length=64)),
                ('name', fields.CharField(unique=True, max_length=100)),
                ('secret_hash', fields.CharField(null=True, max_length=64)),
                ('third_party', fields.BooleanField(default=False)),
                ('redirect_uris', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('post_logout_redirect_uris', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('backchannel_logout_uri', fields.CharField(default='', max_length=2000)),
                ('scopes', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('id_token_alg', fields.CharField(default='ES256', max_length=8)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oidc_clients', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An application that signs its users in through Latchkey, registered by the operator.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuthorizationCode',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code_hash', fields.CharField(unique=True, max_length=64)),
                ('client', fields.ForeignKeyField('models.OidcClient', source_field='client_id', db_constraint=True, to_field='id', related_name='codes', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='oidc_codes', on_delete=OnDelete.CASCADE)),
                ('redirect_uri', fields.CharField(max_length=2000)),
                ('scopes', fields.CharField(max_length=1000)),
                ('nonce', fields.CharField(default='', max_length=500)),
                ('code_challenge', fields.CharField(default='', max_length=128)),
                ('auth_time', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('second_factor', fields.CharField(null=True, max_length=16)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oidc_authorization_codes', 'app': 'models', 'indexes': [Index(fields=['client_id']), Index(fields=['user_id'])], 'pk_attr': 'id', 'table_description': "A code handed to a client's redirect URI: only its SHA-256 is kept, it works once"},
            bases=['Model'],
        ),
    ]
