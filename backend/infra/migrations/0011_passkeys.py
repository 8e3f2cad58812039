from tortoise import migrations
from tortoise.migrations import operations as ops
from backend.kernel.clock import now
from tortoise.fields.base import OnDelete
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [('models', '0010_preferred_authenticator')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PasskeyCredential',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('authenticator', fields.OneToOneField('models.Authenticator', source_field='authenticator_id', db_constraint=True, to_field='id', related_name='passkey_credential', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='passkey_credentials', on_delete=OnDelete.CASCADE)),
                ('credential_id', fields.CharField(unique=True, max_length=1400)),
                ('public_key', fields.TextField(unique=False)),
                ('sign_count', fields.BigIntField(default=0)),
                ('transports', fields.CharField(default='', max_length=200)),
            ],
            options={'table': 'passkey_credentials', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The public half of a passkey, whose Authenticator row (kind passkey) holds its name.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PasskeyChallenge',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='passkey_challenges', on_delete=OnDelete.CASCADE)),
                ('binding', fields.CharField(max_length=120)),
                ('challenge_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'passkey_challenges', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A WebAuthn challenge: random, single use, bound to one flow (binding).'},
            bases=['Model'],
        ),
    ]
