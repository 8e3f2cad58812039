from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [('models', '0008_authenticators')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Session',
            name='reauthenticated_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Session',
            name='reauthenticated_factor',
            field=fields.CharField(null=True, max_length=16),
        ),
    ]
