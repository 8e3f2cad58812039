from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0017_stored_browser_names')]

    initial = False

    operations = [
        ops.AddField(
            model_name='SignInLockout',
            name='reason',
            field=fields.CharField(default='failures', db_default='failures', max_length=16),
        ),
    ]
