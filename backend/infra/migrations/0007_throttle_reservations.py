from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_service_clients')]

    initial = False

    # The counters are short-lived, so the table is recreated rather than converted.
    operations = [
        ops.DeleteModel(name='ThrottleCounter'),
        ops.CreateModel(
            name='ThrottleCounter',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=255)),
                ('failures', fields.IntField(default=0)),
                ('locked_until_ms', fields.BigIntField(null=True)),
                ('updated_at_ms', fields.BigIntField()),
            ],
            options={'table': 'throttle_counters', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
