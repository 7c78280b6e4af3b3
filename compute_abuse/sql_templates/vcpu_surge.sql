{launch_calls},
{launched},
{surge_calls}
{surge_report}
