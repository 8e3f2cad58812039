from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from backend.kernel.clock import now
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0011_passkeys')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PasswordReset',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='password_resets', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'password_resets', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An emailed reset link: only the SHA-256 of its token is kept, and it works once.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SignInLockout',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='lockout', on_delete=OnDelete.CASCADE)),
                ('failures', fields.IntField(default=0)),
                ('locked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sign_in_lockouts', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Failed sign-ins in a row: at the cap the account is locked until a password reset.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SecureAccountLink',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='secure_account_links', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('recipient', fields.CharField(max_length=254)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'secure_account_links', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The "This was not me" link of one notice: only its SHA-256 is kept, and it works once.'},
            bases=['Model'],
        ),
    ]
