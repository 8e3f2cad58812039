from tortoise import migrations
from tortoise.migrations import operations as ops
from backend.kernel.clock import now
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0025_backchannel_logout')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ApplicationAccess',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='application_accesses', on_delete=OnDelete.CASCADE)),
                ('client', fields.ForeignKeyField('models.OidcClient', source_field='client_id', db_constraint=True, to_field='id', related_name='accesses', on_delete=OnDelete.CASCADE)),
                ('scopes', fields.CharField(default='', max_length=1000)),
                ('consented_scopes', fields.CharField(default='', max_length=1000)),
                ('consented_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(default=now, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oidc_application_access', 'app': 'models', 'unique_together': (('user', 'client'),), 'indexes': [Index(fields=['client_id'])], 'pk_attr': 'id', 'table_description': 'What one user let one application see: written when the user signs in to it, and for'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='AuthorizationCode',
            name='grant',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AddField(
            model_name='AccessToken',
            name='oidc_client',
            field=fields.ForeignKeyField('models.OidcClient', source_field='oidc_client_id', db_constraint=True, to_field='id', related_name='access_tokens', null=True, on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='AccessToken',
            name='oidc_grant',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AddIndex(
            model_name='AccessToken',
            index=Index(fields=['oidc_client_id']),
        ),
        ops.AddIndex(
            model_name='AccessToken',
            index=Index(fields=['oidc_grant']),
        ),
    ]
