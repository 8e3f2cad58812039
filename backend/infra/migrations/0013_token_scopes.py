from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0012_account_recovery')]

    initial = False

    operations = [
        ops.CreateModel(
            name='TokenUsageDay',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('refresh_token', fields.ForeignKeyField('models.RefreshToken', source_field='refresh_token_id', db_constraint=True, to_field='id', related_name='usage_days', on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('exchanges', fields.IntField(default=0)),
            ],
            options={'table': 'token_usage_days', 'app': 'models', 'unique_together': (('refresh_token', 'day'),), 'pk_attr': 'id', 'table_description': 'How many times a refresh token was exchanged on one day (UTC): its activity.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='AccessToken',
            name='scopes',
            field=fields.CharField(default='account:read account:write', max_length=1000),
        ),
        ops.AddField(
            model_name='ApiCredential',
            name='scopes',
            field=fields.CharField(default='account:read account:write', max_length=1000),
        ),
        ops.AddField(
            model_name='RefreshToken',
            name='previous_token_hash',
            field=fields.CharField(null=True, unique=True, max_length=64),
        ),
        ops.AddField(
            model_name='RefreshToken',
            name='previous_valid_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='RefreshToken',
            name='regenerated_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='RefreshToken',
            name='reminded_day_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='RefreshToken',
            name='reminded_week_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='RefreshToken',
            name='scopes',
            field=fields.CharField(default='account:read account:write', max_length=1000),
        ),
        ops.AddIndex(
            model_name='RefreshToken',
            index=Index(fields=['expires_at', 'revoked_at']),
        ),
    ]
