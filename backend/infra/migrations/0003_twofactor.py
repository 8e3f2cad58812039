from tortoise import migrations
from tortoise.migrations import operations as ops
from backend.kernel.clock import now
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_tokens')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OneTimeCode',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='one_time_codes', on_delete=OnDelete.CASCADE)),
                ('purpose', fields.CharField(max_length=80)),
                ('code_hash', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('failed_attempts', fields.IntField(default=0)),
                ('sends', fields.IntField(default=1)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'one_time_codes', 'app': 'models', 'unique_together': (('user', 'purpose'),), 'pk_attr': 'id', 'table_description': 'A code sent by email or SMS: for a sign-in, a setup, or a sensitive change.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PendingSetup',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='pending_two_factor', on_delete=OnDelete.CASCADE)),
                ('method', fields.CharField(max_length=8)),
                ('totp_secret', fields.CharField(null=True, max_length=255)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'two_factor_pending_setups', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A method being set up: the TOTP secret or the confirmation code, until confirmed.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RecoveryCode',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='recovery_codes', on_delete=OnDelete.CASCADE)),
                ('code_hash', fields.CharField(max_length=64)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'recovery_codes', 'app': 'models', 'unique_together': (('user', 'code_hash'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SignInChallenge',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='sign_in_challenges', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sign_in_challenges', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The password was right, the second factor is still to come.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TrustedDevice',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='trusted_devices', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ip_address', fields.CharField(default='', max_length=45)),
                ('user_agent', fields.CharField(default='', max_length=512)),
            ],
            options={'table': 'trusted_devices', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A browser the user asked to remember (its cookie value is stored hashed).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TwoFactor',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='two_factor', on_delete=OnDelete.CASCADE)),
                ('method', fields.CharField(max_length=8)),
                ('policy', fields.CharField(default='every_sign_in', max_length=24)),
                ('totp_secret', fields.CharField(null=True, max_length=255)),
                ('last_timecode', fields.BigIntField(default=0)),
                ('enabled_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'two_factor', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A row exists while two-factor authentication is on for the user.'},
            bases=['Model'],
        ),
    ]
