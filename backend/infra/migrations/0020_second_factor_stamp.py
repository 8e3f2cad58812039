from tortoise import fields, migrations
from tortoise.migrations import operations as ops


async def date_existing_second_factor_stamps(apps, schema_editor):
    """A stamp written before the two proofs were timed apart proved both at once."""
    await schema_editor.client.execute_query(
        "UPDATE sessions SET reauthenticated_factor_at = reauthenticated_at"
        " WHERE reauthenticated_factor IS NOT NULL"
    )


class Migration(migrations.Migration):
    dependencies = [('models', '0019_token_list_index')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Session',
            name='reauthenticated_factor_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.RunPython(date_existing_second_factor_stamps, reverse_code=ops.RunPython.noop),
    ]
