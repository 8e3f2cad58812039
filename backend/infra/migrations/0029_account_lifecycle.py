from tortoise import migrations
from tortoise.migrations import operations as ops
from backend.kernel.clock import now
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [('models', '0028_administrators')]

    initial = False

    operations = [
        ops.AddField(
            model_name='User',
            name='deletion_scheduled_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='User',
            name='deletion_due_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='User',
            index=Index(fields=['deletion_due_at']),
        ),
        ops.AddField(
            model_name='SecurityEvent',
            name='pseudonym',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.CreateModel(
            name='HeldUsername',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('username_key', fields.CharField(unique=True, max_length=64)),
                ('held_until', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'held_usernames', 'app': 'models', 'pk_attr': 'id', 'table_description': "A deleted account's username, which no new account may take until `held_until`, so"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DeletionCancelLink',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='deletion_cancel_links', on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'deletion_cancel_links', 'app': 'models', 'indexes': [Index(fields=['user_id'])], 'pk_attr': 'id', 'table_description': 'The emailed link that cancels a scheduled deletion: only the SHA-256 of its token is'},
            bases=['Model'],
        ),
    ]
