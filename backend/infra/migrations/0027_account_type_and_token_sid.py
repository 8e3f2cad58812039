from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0026_application_access')]

    initial = False

    operations = [
        ops.AddField(
            model_name='User',
            name='account_type',
            field=fields.CharField(default='USER', db_default='USER', max_length=16),
        ),
        ops.AddField(
            model_name='AccessToken',
            name='oidc_sid',
            field=fields.CharField(null=True, max_length=64),
        ),
    ]
